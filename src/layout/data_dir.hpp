// Which backend's store a data directory holds, from its file names.
//
// Every backend refuses a directory that holds another backend's files (it
// would otherwise create its own beside them and the user would see an empty
// store), and orbit-cli names the backend a directory belongs to. They all
// judge by this one table of names that identify a backend for certain:
//   RocksDb   CURRENT, IDENTITY, OPTIONS-*, MANIFEST-*
//   LsmTree   manifest.json, sstables/
//   CowBTree  metadata.json, orbit.pages, snapshots/
// orbit.wal/ and orbit.lock are shared by the COW and LSM stores: they
// identify neither, but are foreign to RocksDB. The functions are pure: callers list the directory (through io/
// in the engines).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orbit/provider.hpp"
#include "orbit/result.hpp"

namespace orbit::layout {

// The backend `name` (a file or folder in a data directory) belongs to, if
// it identifies one.
std::optional<PersistenceBackend> owner_of(std::string_view name) noexcept;

// The names among `names` that belong to a backend other than `backend`,
// each as "name (Backend)".
std::vector<std::string> foreign_files(const std::vector<std::string>& names, PersistenceBackend backend);

// InvalidArgument naming `dir`, the foreign files and what `backend` keeps
// there, when `names` (the directory's entries) hold another backend's files.
Result<void> check_owned_by(const std::string& dir, const std::vector<std::string>& names,
                            PersistenceBackend backend);

// The entries of `dir`, sorted (empty if it cannot be listed), for callers outside
// io/ (RocksDB's own open, tools). Engines on io/ list through their runtime.
std::vector<std::string> list_names(const std::string& dir);

}  // namespace orbit::layout
