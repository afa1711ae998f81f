#pragma once
// Latency histogram for the load engine: log-linear buckets (the HdrHistogram layout, written
// from scratch), fixed memory, O(1) record(), lossless merge, compact serialization.
//
// Bucket layout. Values are non-negative integers in microseconds. With kSubBucketBits = 7:
//   - values 0..255 each have their own bucket (exact);
//   - above that, each power-of-two magnitude [2^m, 2^(m+1)), m >= 8, is split into 128 linear
//     sub-buckets of width 2^(m-7).
// A value v goes to bucket index (shift << 7) + (v >> shift) with shift = bit_width(v | 255) - 8,
// i.e. one countl_zero and two shifts, no loops and no branches. The top of the range is
// kMaxValue = 3.6e9 us (one hour); larger values are clamped to kMaxValue and counted in
// overflow(). That gives kBucketCount = 3287 uint64 counters, ~26 KiB, held inline in a
// std::array: record() never allocates and memory does not depend on the data.
//
// Error bound. A bucket of width 2^s starts at a value >= 128 * 2^s, so any two values sharing a
// bucket differ by less than 1/128 < 0.79% of either. percentile() reports the bucket's upper
// bound clamped to [min, max]: never below the exact order statistic and less than 0.79% above
// it, so a gate such as "p95 < 300ms" that passes on the histogram also passes on the raw data.
// min(), max(), count() and the sum (mean()) are exact; stddev() is computed from the buckets.
//
// Not thread-safe: keep one histogram per thread and merge() them; merging is exact (bucket for
// bucket), commutative and associative.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kgate::load {

// The bucket layout, usable in constant expressions (tests and static_asserts use it too).
namespace histogram_layout {
inline constexpr unsigned kSubBucketBits = 7;  // 128 sub-buckets per magnitude: < 0.79% error
inline constexpr std::uint64_t kMaxValue = 3'600'000'000;  // 1 hour in microseconds
inline constexpr std::size_t kExact = std::size_t{1} << (kSubBucketBits + 1);  // 0..255 exact

// Bucket of a value in [0, kMaxValue].
constexpr std::size_t bucket_index(std::uint64_t v) {
  // v | 255 puts every small value in magnitude 8, where the shift is 0 and v is its own index.
  const auto shift = static_cast<unsigned>(std::bit_width(v | (kExact - 1))) - (kSubBucketBits + 1);
  return (std::size_t{shift} << kSubBucketBits) + static_cast<std::size_t>(v >> shift);
}
// Smallest value in bucket i.
constexpr std::uint64_t bucket_lower(std::size_t i) {
  if (i < kExact) return i;
  const auto shift = static_cast<unsigned>(i >> kSubBucketBits) - 1;
  const std::uint64_t sub = (i & ((std::size_t{1} << kSubBucketBits) - 1)) | (kExact >> 1);
  return sub << shift;
}
// Largest value in bucket i.
constexpr std::uint64_t bucket_upper(std::size_t i) {
  if (i < kExact) return i;
  const auto shift = static_cast<unsigned>(i >> kSubBucketBits) - 1;
  return bucket_lower(i) + ((std::uint64_t{1} << shift) - 1);
}
inline constexpr std::size_t kBucketCount = bucket_index(kMaxValue) + 1;

static_assert(kBucketCount == 3287);
static_assert(bucket_index(255) == 255 && bucket_index(256) == 256 && bucket_lower(256) == 256);
static_assert(bucket_upper(bucket_index(511)) == 511 && bucket_lower(bucket_index(512)) == 512);
}  // namespace histogram_layout

class Histogram {
 public:
  static constexpr std::uint64_t kMaxValue = histogram_layout::kMaxValue;
  static constexpr std::size_t kBucketCount = histogram_layout::kBucketCount;

  // Records `count` occurrences of `us`. Values above kMaxValue are clamped (see overflow()).
  void record(std::uint64_t us, std::uint64_t count = 1) {
    if (count == 0) return;
    if (us > kMaxValue) [[unlikely]] {
      us = kMaxValue;
      overflow_ += count;
    }
    counts_[histogram_layout::bucket_index(us)] += count;
    count_ += count;
    const std::uint64_t add = count == 1 ? us : saturating_mul(us, count);
    const std::uint64_t sum = sum_ + add;
    sum_ = sum < sum_ ? kSaturated : sum;  // saturate instead of wrapping
    if (us < min_) min_ = us;
    if (us > max_) max_ = us;
  }

  std::uint64_t count() const { return count_; }
  // Values recorded above kMaxValue (they are counted as kMaxValue everywhere else).
  std::uint64_t overflow() const { return overflow_; }
  // Exact smallest/largest recorded value; 0 when empty.
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  // Exact sum of the recorded values (saturates at 2^64-1, unreachable in practice).
  std::uint64_t sum() const { return sum_; }
  double mean() const;    // exact (sum / count); 0 when empty
  double stddev() const;  // population standard deviation from the buckets; 0 when empty

  // The value at percentile q in [0, 100] (q is taken to 6 decimals): the smallest recorded v
  // such that at least ceil(q/100 * count) values are <= v (at least 1: q = 0 is min(), q = 100
  // is max()), as the upper bound of v's bucket clamped to [min(), max()]. 0 when empty.
  // Throws std::invalid_argument for q outside [0, 100] or NaN.
  std::uint64_t percentile(double q) const;

  // Adds `other`'s data: the result equals the histogram of both data sets.
  void merge(const Histogram& other);
  void reset();

  std::uint64_t bucket_count_at(std::size_t i) const { return counts_.at(i); }
  // Fixed: the histogram never allocates.
  static constexpr std::size_t memory_bytes() { return sizeof(Histogram); }

  bool operator==(const Histogram&) const = default;

  // Compact binary form: "KGH" + version byte, then varints (count, sum, min, max, overflow,
  // number of non-empty buckets, then per non-empty bucket: gap from the previous one and its
  // count), then a CRC-32 of everything before it. deserialize() validates all of it and throws
  // std::invalid_argument on any corrupt or truncated input.
  std::string serialize() const;
  static Histogram deserialize(std::string_view bytes);
  // serialize() in standard base64 (with padding), for JSON.
  std::string to_base64() const;
  static Histogram from_base64(std::string_view text);

 private:
  static constexpr std::uint64_t kSaturated = ~std::uint64_t{0};
  static std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
    return a != 0 && b > kSaturated / a ? kSaturated : a * b;
  }

  std::array<std::uint64_t, kBucketCount> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = kSaturated;  // sentinel while empty
  std::uint64_t max_ = 0;
  std::uint64_t overflow_ = 0;
};

static_assert(sizeof(Histogram) <= 64 * 1024, "a histogram must stay small and fixed");

// The usual summary, corrected-latency style. All zero for an empty histogram.
struct Percentiles {
  std::uint64_t p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
};
Percentiles percentiles(const Histogram& h);

}  // namespace kgate::load
