// Typed, checked views of iden3 section payloads that hold arrays of field elements or affine
// points in Montgomery form, little-endian: exactly the in-memory layout of Fr, G1Affine and
// G2Affine (x then y; infinity as all zero bytes).
//
// A view points into the memory-mapped file when the payload is aligned for the type; when it
// is not (snarkjs writes the 4 + 44n-byte coefficient section before the point sections, which
// shifts them by 4 bytes for half of all circuits), the payload is copied once into `storage`,
// because reading uint64_t limbs at a misaligned address is undefined behaviour. zkinfer's own
// writers order sections so that every array stays aligned.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "zkinfer/ec/curves.h"
#include "zkinfer/ec/serialize.h"
#include "zkinfer/prover/binfile.h"

namespace zkinfer::prover {

template <class T>
std::span<const T> typed_view(std::span<const uint8_t> bytes, std::vector<T>& storage, const std::string& where) {
  if (bytes.size() % sizeof(T) != 0)
    throw FormatError(where + ": size " + std::to_string(bytes.size()) + " is not a multiple of " +
                      std::to_string(sizeof(T)) + " bytes");
  size_t n = bytes.size() / sizeof(T);
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(T) == 0)
    return {reinterpret_cast<const T*>(bytes.data()), n};
  storage.resize(n);
  if (n) std::memcpy(storage.data(), bytes.data(), bytes.size());
  return {storage.data(), n};
}

// Checks that every coordinate is a reduced Montgomery value (< p) and every point lies on the
// curve (infinity allowed); with `subgroup`, G2 points are also tested for the prime-order
// subgroup (G1 has cofactor 1). Runs on every core; throws FormatError naming `where` and the
// index of the first bad point.
template <class C>
void check_points(std::span<const Affine<C>> pts, const std::string& where, bool subgroup = false);
extern template void check_points<G1Curve>(std::span<const G1Affine>, const std::string&, bool);
extern template void check_points<G2Curve>(std::span<const G2Affine>, const std::string&, bool);

// Checks that every element is a reduced Montgomery value (< r).
void check_scalars(std::span<const Fr> xs, const std::string& where);

}  // namespace zkinfer::prover
