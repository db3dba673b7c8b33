#pragma once

// CRC-32C (Castagnoli), as used by iSCSI, ext4 and RocksDB. Abseil 20220623 (Debian 12) has no
// absl::crc32c, so this is a small implementation: SSE4.2's crc32 instruction when the CPU has
// it, slicing-by-8 tables otherwise. Both give identical results (tested).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tern::journal {

// Extends `crc` (0 to start) over `data`.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);
inline uint32_t Crc32c(std::string_view s) { return Crc32cExtend(0, s.data(), s.size()); }

// The portable path, exposed so tests can compare it with the hardware path.
uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n);
bool Crc32cHardwareAvailable();

}  // namespace tern::journal
