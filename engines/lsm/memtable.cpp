#include "engines/lsm/memtable.hpp"

#include <sys/mman.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <new>
#include <utility>

#include "io/background.hpp"

namespace orbit::lsm {
namespace {

std::uint64_t key_hash(std::string_view user_key) noexcept {
  return XXH3_64bits(user_key.data(), user_key.size());
}

// Anonymous pages, zeroed by the kernel as they are first touched.
void* map_pages(std::size_t bytes) {
  void* pages = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) throw std::bad_alloc();
  return pages;
}

// Unmapping a full memtable's pages (64 MB of arena, 16 MB of index) took
// ~11 ms in one job, which a background worker could not give way in
// (io/background.hpp): a megabyte at a time, with a checkpoint between.
void unmap_pages(void* pages, std::size_t bytes) noexcept {
  constexpr std::size_t kStep = 1 << 20;
  auto* at = static_cast<char*>(pages);
  for (std::size_t done = 0; done < bytes; done += kStep) {
    ::munmap(at + done, std::min(kStep, bytes - done));
    io::background_checkpoint();
  }
}

// The arena's upstream: each block a mapping of its own, unmapped by
// unmap_pages. Stateless, so one serves every memtable.
class PageResource final : public std::pmr::memory_resource {
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (alignment > 4096) throw std::bad_alloc();
    return map_pages(bytes);
  }
  void do_deallocate(void* pages, std::size_t bytes, std::size_t) override { unmap_pages(pages, bytes); }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
};

}  // namespace

std::pmr::memory_resource* Memtable::pages() noexcept {
  static PageResource resource;
  return &resource;
}

Memtable::KeyIndex::KeyIndex(std::size_t expected_keys) {
  if (expected_keys != 0) table_ = make_table(std::bit_ceil(std::max(kMinSlots, 2 * expected_keys)));
}

void Memtable::KeyIndex::Unmap::operator()(Slot* slots) const noexcept { unmap_pages(slots, bytes); }

Memtable::KeyIndex::Table Memtable::KeyIndex::make_table(std::size_t slots) {
  const std::size_t bytes = slots * sizeof(Slot);
  void* pages = map_pages(bytes);
  reserved_bytes_ += bytes;
  // Every slot reads as free (a null head) until written.
  return Table{std::unique_ptr<Slot[], Unmap>(static_cast<Slot*>(pages), Unmap{bytes}), slots};
}

Memtable::KeyHead* Memtable::KeyIndex::find_in(const Table& table, std::string_view user_key,
                                               std::uint64_t hash) noexcept {
  if (table.size == 0) return nullptr;
  const std::size_t mask = table.size - 1;
  for (std::size_t i = hash & mask; table.slots[i].head != nullptr; i = (i + 1) & mask) {
    if (table.slots[i].hash == hash && table.slots[i].head->key() == user_key) return table.slots[i].head;
  }
  return nullptr;
}

void Memtable::KeyIndex::place(Table& table, const Slot& slot) noexcept {
  const std::size_t mask = table.size - 1;
  std::size_t i = slot.hash & mask;
  while (table.slots[i].head != nullptr) i = (i + 1) & mask;
  table.slots[i] = slot;
}

Memtable::KeyHead* Memtable::KeyIndex::find(std::string_view user_key, std::uint64_t hash) const noexcept {
  // A key still in the old table is in the new one only once moved.
  if (KeyHead* head = find_in(table_, user_key, hash)) return head;
  return find_in(moving_, user_key, hash);
}

void Memtable::KeyIndex::prefetch(std::uint64_t hash) const noexcept {
  if (table_.size != 0) __builtin_prefetch(&table_.slots[hash & (table_.size - 1)]);
}

void Memtable::KeyIndex::insert(std::uint64_t hash, KeyHead* head) {
  if (table_.size == 0) table_ = make_table(kMinSlots);
  place(table_, Slot{hash, head});
  ++keys_;
  move_some();
  if (2 * keys_ > table_.size) {
    while (moving_.size != 0) move_some();  // (never, unless a table filled before its predecessor emptied)
    const std::size_t slots = 2 * table_.size;
    moving_ = std::exchange(table_, make_table(slots));
    moved_ = 0;
  }
}

void Memtable::KeyIndex::prefault() noexcept {
  // One write per page, of the null key every slot already holds. Not
  // MAP_POPULATE: with it the loop thread's own page faults stalled for
  // milliseconds while a worker populated a table.
  assert(keys_ == 0);
  constexpr std::size_t kSlotsPerPage = 4096 / sizeof(Slot);
  for (std::size_t i = 0; i < table_.size; i += kSlotsPerPage) {
    KeyHead* volatile* head = &table_.slots[i].head;
    *head = nullptr;
    if (i % (16 * kSlotsPerPage) == 0) io::background_checkpoint();
  }
}

void Memtable::KeyIndex::move_some() noexcept {
  if (moving_.size == 0) return;
  const std::size_t end = std::min(moving_.size, moved_ + kMoveStep);
  for (; moved_ < end; ++moved_) {
    if (moving_.slots[moved_].head != nullptr) place(table_, moving_.slots[moved_]);
  }
  if (moved_ == moving_.size) moving_ = Table{};
}

Memtable::Memtable(std::size_t expected_keys) : index_(expected_keys) {
  memory_usage_ += index_.reserved_bytes();
}

void Memtable::prefault() noexcept { index_.prefault(); }

void Memtable::add(SequenceNumber sequence, ValueType type, std::string_view user_key,
                   std::string_view value) {
  const std::size_t key_size = user_key.size() + kInternalKeyTagSize;
  const std::size_t value_size = type == ValueType::Put ? value.size() : 0;
  void* raw = arena_.allocate(sizeof(Version) + key_size + value_size, alignof(Version));
  auto* version = new (raw) Version{nullptr, sequence, type, static_cast<std::uint32_t>(key_size),
                                    static_cast<std::uint32_t>(value_size)};
  char* bytes = static_cast<char*>(raw) + sizeof(Version);
  encode_internal_key(bytes, user_key, sequence, type);
  if (value_size != 0) std::memcpy(bytes + key_size, value.data(), value_size);
  ++entries_;
  data_bytes_ += key_size + value_size;
  memory_usage_ += sizeof(Version) + key_size + value_size;

  const std::uint64_t hash = key_hash(user_key);
  KeyHead* head = index_.find(user_key, hash);
  if (head == nullptr) {
    void* at = arena_.allocate(sizeof(KeyHead) + user_key.size(), alignof(KeyHead));
    head = new (at) KeyHead{version, sequence, static_cast<std::uint32_t>(user_key.size())};
    std::memcpy(static_cast<char*>(at) + sizeof(KeyHead), user_key.data(), user_key.size());
    const auto hint = last_first_ == keys_.end() ? keys_.end() : std::next(last_first_);
    [[maybe_unused]] const std::size_t before = keys_.size();
    last_first_ = keys_.emplace_hint(hint, head->key(), head);
    assert(keys_.size() == before + 1);
    const std::size_t reserved = index_.reserved_bytes();
    index_.insert(hash, head);
    memory_usage_ += kKeyOverhead + sizeof(KeyHead) + user_key.size() + index_.reserved_bytes() - reserved;
    return;
  }
  // Newest first: a store's sequences grow, so the new version is almost
  // always the key's newest.
  if (sequence > head->newest_sequence) {
    version->older = head->newest;
    head->newest = version;
    head->newest_sequence = sequence;
    return;
  }
  Version* at = head->newest;
  while (at->older != nullptr && at->older->sequence > sequence) at = at->older;
  assert(at->sequence != sequence && (at->older == nullptr || at->older->sequence != sequence));
  version->older = at->older;
  at->older = version;
}

void Memtable::prefetch(std::string_view user_key) const noexcept { index_.prefetch(key_hash(user_key)); }

void Memtable::touch(std::string_view user_key) const noexcept {
  const KeyHead* head = index_.find(user_key, key_hash(user_key));
  asm volatile("" : : "r"(head));  // the loads are the point
}

Memtable::LookupResult Memtable::get(std::string_view user_key, SequenceNumber snapshot) const {
  const Found found = find(user_key, snapshot);
  LookupResult result;
  result.state = found.state;
  result.sequence = found.sequence;
  result.value = found.value;
  return result;
}

Memtable::Found Memtable::find(std::string_view user_key, SequenceNumber snapshot) const {
  Found result;
  const KeyHead* head = index_.find(user_key, key_hash(user_key));
  if (head == nullptr) return result;  // no version at all
  const Version* version = head->newest;
  while (version != nullptr && version->sequence > snapshot) version = version->older;
  if (version == nullptr) return result;
  result.sequence = version->sequence;
  if (version->type == ValueType::Delete) {
    result.state = LookupState::Deleted;
  } else {
    result.state = LookupState::Found;
    result.value = version->value();
  }
  return result;
}

void Memtable::Iterator::seek(std::string_view internal_key) {
  assert(internal_key.size() >= kInternalKeyTagSize);
  const std::string_view user_key = extract_user_key(internal_key);
  at_key(keys_->lower_bound(user_key));
  if (version_ == nullptr || it_->first != user_key) return;
  while (version_ != nullptr && internal_key_compare(version_->internal_key(), internal_key) < 0)
    version_ = version_->older;
  if (version_ == nullptr) at_key(std::next(it_));
}

}  // namespace orbit::lsm
