// FaultFileSystem: see fault_file_system.hpp (being written).
