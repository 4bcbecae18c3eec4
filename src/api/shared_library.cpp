// The shared library orbit::persistence is made of the internal static
// libraries (whole-archive); this file only gives it a translation unit.
namespace orbit {
int orbit_persistence_abi_version() { return 1; }
}  // namespace orbit
