// Names of the public enums, as users see them in messages, JSON and the CLI.
#include "orbit/config.hpp"
#include "orbit/metrics.hpp"
#include "orbit/provider.hpp"
#include "orbit/result.hpp"

namespace orbit {

std::string_view to_string(OperationType type) noexcept {
  switch (type) {
    case OperationType::Store: return "store";
    case OperationType::Get: return "get";
    case OperationType::Remove: return "remove";
    case OperationType::Batch: return "batch";
    case OperationType::ScanByActorType: return "scan_by_actor_type";
    case OperationType::ListByNode: return "list_by_node";
    case OperationType::ListExpiring: return "list_expiring";
    case OperationType::Acquire: return "acquire";
    case OperationType::Renew: return "renew";
    case OperationType::Release: return "release";
    case OperationType::Stats: return "stats";
    case OperationType::Flush: return "flush";
    case OperationType::Checkpoint: return "checkpoint";
    case OperationType::Close: return "close";
  }
  return "unknown";
}

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Ok: return "Ok";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::Corruption: return "Corruption";
    case ErrorCode::IOError: return "IOError";
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::Conflict: return "Conflict";
    case ErrorCode::Unavailable: return "Unavailable";
    case ErrorCode::NoSpace: return "NoSpace";
    case ErrorCode::NotSupported: return "NotSupported";
  }
  return "Unknown";
}

std::string Error::to_string() const {
  std::string out(orbit::to_string(code));
  out += ": ";
  out += message;
  return out;
}

std::string_view to_string(PersistenceBackend backend) noexcept {
  switch (backend) {
    case PersistenceBackend::CowBTree: return "CowBTree";
    case PersistenceBackend::LsmTree: return "LsmTree";
    case PersistenceBackend::RocksDb: return "RocksDb";
  }
  return "Unknown";
}

std::string_view to_string(DurabilityMode mode) noexcept {
  switch (mode) {
    case DurabilityMode::Durable: return "durable";
    case DurabilityMode::Buffered: return "buffered";
    case DurabilityMode::None: return "none";
  }
  return "unknown";
}

std::string_view to_string(IoBackend backend) noexcept {
  switch (backend) {
    case IoBackend::Auto: return "auto";
    case IoBackend::IoUring: return "io_uring";
    case IoBackend::Asio: return "asio";
  }
  return "unknown";
}

std::string_view to_string(ConfigSource source) noexcept {
  switch (source) {
    case ConfigSource::Default: return "default";
    case ConfigSource::File: return "file";
    case ConfigSource::Environment: return "env";
    case ConfigSource::Builder: return "builder";
  }
  return "unknown";
}

}  // namespace orbit
