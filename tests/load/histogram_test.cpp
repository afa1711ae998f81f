// Histogram: percentiles against exact order statistics, merge, serialization, fixed memory.
#include "kgate/load/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using kgate::load::Histogram;
namespace hl = kgate::load::histogram_layout;

constexpr double kQs[] = {0, 1, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

// The exact order statistic the histogram promises to approximate: the smallest v with at least
// ceil(q/100 * n) values <= v (at least the first). q is taken in millionths of a percent, like
// the histogram, so that 99.9% of 1000 is exactly 999 samples.
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, double q) {
  const auto qm = static_cast<std::uint64_t>(std::llround(q * 1e6));
  const std::uint64_t n = sorted.size();
  std::uint64_t rank = (qm * n + 100'000'000 - 1) / 100'000'000;  // small n: no overflow
  rank = std::max<std::uint64_t>(rank, 1);
  return sorted[rank - 1];
}

// Records `values` (clamped like the histogram does) and checks every percentile in kQs: never
// below the exact value, in the same bucket, and within 1% (exact below 256 us).
void check_percentiles(const std::vector<std::uint64_t>& values, const std::string& what) {
  Histogram h;
  std::vector<std::uint64_t> clamped;
  for (auto v : values) {
    h.record(v);
    clamped.push_back(std::min(v, Histogram::kMaxValue));
  }
  std::sort(clamped.begin(), clamped.end());
  ASSERT_EQ(h.count(), values.size()) << what;
  EXPECT_EQ(h.min(), clamped.front()) << what;
  EXPECT_EQ(h.max(), clamped.back()) << what;
  const long double sum = std::accumulate(clamped.begin(), clamped.end(), 0.0L);
  EXPECT_EQ(h.sum(), static_cast<std::uint64_t>(sum)) << what;
  for (double q : kQs) {
    const std::uint64_t exact = exact_percentile(clamped, q);
    const std::uint64_t got = h.percentile(q);
    SCOPED_TRACE(what + " q=" + std::to_string(q) + " exact=" + std::to_string(exact) +
                 " got=" + std::to_string(got));
    EXPECT_GE(got, exact);
    EXPECT_LE(static_cast<double>(got - exact), 0.01 * static_cast<double>(exact));
    EXPECT_EQ(hl::bucket_index(got), hl::bucket_index(exact));
    if (exact < 256 || q == 0 || q == 100) {
      EXPECT_EQ(got, exact);
    }
  }
  // stddev from the buckets: within the bucket resolution of the exact one
  const double mean = static_cast<double>(sum / clamped.size());
  long double acc = 0;
  for (auto v : clamped) acc += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
  const double sd = std::sqrt(static_cast<double>(acc / clamped.size()));
  EXPECT_NEAR(h.stddev(), sd, 0.01 * (sd + mean) + 1e-9) << what;
  EXPECT_NEAR(h.mean(), mean, 1e-9 * mean + 1e-9) << what;
}

TEST(HistogramLayout, BucketsAreContiguousAndWithinOnePercent) {
  EXPECT_EQ(hl::bucket_lower(0), 0u);
  for (std::size_t i = 0; i < Histogram::kBucketCount; ++i) {
    const auto lo = hl::bucket_lower(i), hi = hl::bucket_upper(i);
    ASSERT_LE(lo, hi);
    ASSERT_EQ(hl::bucket_index(lo), i);
    ASSERT_EQ(hl::bucket_index(hi), i);
    if (i + 1 < Histogram::kBucketCount) {
      ASSERT_EQ(hl::bucket_lower(i + 1), hi + 1) << i;
    }
    if (lo > 0) {
      ASSERT_LT(static_cast<double>(hi - lo) / static_cast<double>(lo), 1.0 / 128);
    }
    if (i < 256) {
      ASSERT_EQ(lo, hi);  // exact below 256 us
    }
  }
  EXPECT_EQ(hl::bucket_index(Histogram::kMaxValue), Histogram::kBucketCount - 1);
  EXPECT_GE(Histogram::kMaxValue, 3'600'000'000u);
}

TEST(HistogramLayout, IndexIsMonotonicAcrossPowerOfTwoBoundaries) {
  for (int k = 1; k < 32; ++k) {
    const std::uint64_t p = std::uint64_t{1} << k;
    EXPECT_LT(hl::bucket_index(p - 1), hl::bucket_index(p)) << k;
    EXPECT_LE(hl::bucket_index(p), hl::bucket_index(p + 1)) << k;
  }
}

TEST(Histogram, EmptyHistogram) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.stddev(), 0.0);
  for (double q : kQs) EXPECT_EQ(h.percentile(q), 0u);
  const auto p = kgate::load::percentiles(h);
  EXPECT_EQ(p.p50 + p.p90 + p.p95 + p.p99 + p.p999 + p.max, 0u);
}

TEST(Histogram, PercentileOutsideRangeThrows) {
  Histogram h;
  h.record(5);
  EXPECT_THROW(h.percentile(-0.1), std::invalid_argument);
  EXPECT_THROW(h.percentile(100.01), std::invalid_argument);
  EXPECT_THROW(h.percentile(std::nan("")), std::invalid_argument);
}

TEST(Histogram, RandomDistributionsMatchExactOrderStatistics) {
  std::mt19937_64 rng(20240601);
  const std::size_t n = 50'000;
  {
    std::uniform_int_distribution<std::uint64_t> d(0, 2'000'000);
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = d(rng);
    check_percentiles(v, "uniform");
  }
  {
    std::lognormal_distribution<double> d(std::log(20'000.0), 1.5);
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = static_cast<std::uint64_t>(d(rng));
    check_percentiles(v, "lognormal");
  }
  {
    std::exponential_distribution<double> d(1.0 / 5'000);
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = static_cast<std::uint64_t>(d(rng));
    check_percentiles(v, "exponential");
  }
  {  // heavy tail: Pareto, with values past the top of the range
    std::uniform_real_distribution<double> u(1e-12, 1.0);
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = static_cast<std::uint64_t>(std::min(1e12, 100.0 / std::pow(u(rng), 1.2)));
    check_percentiles(v, "pareto");
  }
  for (std::size_t small : {1u, 2u, 3u, 7u, 10u, 99u, 101u, 1000u, 1001u}) {
    std::uniform_int_distribution<std::uint64_t> d(0, 100'000);
    std::vector<std::uint64_t> v(small);
    for (auto& x : v) x = d(rng);
    check_percentiles(v, "small n=" + std::to_string(small));
  }
}

TEST(Histogram, AdversarialData) {
  check_percentiles(std::vector<std::uint64_t>(1000, 123'456), "all equal");
  check_percentiles(std::vector<std::uint64_t>(1000, 0), "all zero");
  check_percentiles({0, 1}, "zero and one");
  check_percentiles({1}, "single one");
  check_percentiles({987'654'321}, "single value");
  {
    std::vector<std::uint64_t> v;
    for (int k = 0; k < 32; ++k) {
      const std::uint64_t p = std::uint64_t{1} << k;
      v.insert(v.end(), {p - 1, p, p + 1});
    }
    check_percentiles(v, "powers of two +-1");
  }
  check_percentiles({Histogram::kMaxValue, Histogram::kMaxValue - 1, 1, 2}, "at the maximum");
  {
    std::vector<std::uint64_t> v(100, 50);
    v.insert(v.end(), 100, 3'000'000'000);
    v.insert(v.end(), 10, 10'000'000'000);  // above the maximum
    check_percentiles(v, "two far-apart clusters and overflow");
  }
  {
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> v;
    std::normal_distribution<double> a(300, 10), b(2'000'000, 50'000);
    for (int i = 0; i < 5000; ++i) v.push_back(static_cast<std::uint64_t>(std::max(0.0, a(rng))));
    for (int i = 0; i < 50; ++i) v.push_back(static_cast<std::uint64_t>(b(rng)));
    check_percentiles(v, "bimodal 1% tail");
  }
}

TEST(Histogram, OverflowIsClampedAndCounted) {
  Histogram h;
  h.record(Histogram::kMaxValue);
  h.record(Histogram::kMaxValue + 1);
  h.record(~std::uint64_t{0}, 3);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.overflow(), 4u);
  EXPECT_EQ(h.max(), Histogram::kMaxValue);
  EXPECT_EQ(h.percentile(100), Histogram::kMaxValue);
  EXPECT_EQ(h.sum(), 5 * Histogram::kMaxValue);
}

TEST(Histogram, RecordWithCountEqualsRepeatedRecords) {
  Histogram a, b;
  a.record(777, 5);
  a.record(0, 2);
  a.record(42, 0);  // a count of 0 records nothing
  for (int i = 0; i < 5; ++i) b.record(777);
  b.record(0);
  b.record(0);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.min(), 0u);
}

TEST(Histogram, SumSaturatesInsteadOfWrapping) {
  Histogram h;
  h.record(Histogram::kMaxValue, std::uint64_t{1} << 40);
  h.record(Histogram::kMaxValue, std::uint64_t{1} << 40);
  EXPECT_EQ(h.sum(), ~std::uint64_t{0});
  EXPECT_EQ(h.percentile(50), Histogram::kMaxValue);
}

TEST(Histogram, ResetEqualsFresh) {
  Histogram h;
  for (std::uint64_t v = 0; v < 100'000; v += 7) h.record(v);
  h.reset();
  EXPECT_EQ(h, Histogram());
  EXPECT_EQ(h.count(), 0u);
  h.record(5);
  EXPECT_EQ(h.min(), 5u);
}

TEST(Histogram, PercentilesHelper) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.record(v * 100);
  const auto p = kgate::load::percentiles(h);
  EXPECT_EQ(p.p50, h.percentile(50));
  EXPECT_EQ(p.p90, h.percentile(90));
  EXPECT_EQ(p.p95, h.percentile(95));
  EXPECT_EQ(p.p99, h.percentile(99));
  EXPECT_EQ(p.p999, h.percentile(99.9));
  EXPECT_EQ(p.max, 100'000u);
  EXPECT_GE(p.p999, 99'900u);  // exact: 99.9 ms; its bucket reaches past max, so clamped
  EXPECT_LE(p.p999, 100'000u);
}

TEST(Histogram, MemoryIsFixed) {
  static_assert(Histogram::memory_bytes() <= 64 * 1024);
  static_assert(Histogram::memory_bytes() == sizeof(Histogram));
  Histogram h;
  const auto before = h.memory_bytes();
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100'000; ++i) h.record(rng() % (std::uint64_t{1} << 33));
  EXPECT_EQ(h.memory_bytes(), before);
  EXPECT_LE(before, 64u * 1024);
}

std::vector<std::uint64_t> realistic(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(std::log(2'000.0), 0.6);
  std::vector<std::uint64_t> v(n);
  for (auto& x : v) x = static_cast<std::uint64_t>(d(rng));
  return v;
}

TEST(HistogramMerge, ShuffledPartitionsMergeToTheUnion) {
  std::mt19937_64 rng(99);
  auto values = realistic(60'000, 5);
  values.push_back(20'000'000'000);  // one overflow
  Histogram all;
  for (auto v : values) all.record(v);
  for (int partitions : {1, 2, 3, 8, 17}) {
    std::shuffle(values.begin(), values.end(), rng);
    std::vector<Histogram> parts(static_cast<std::size_t>(partitions));
    for (auto v : values) parts[rng() % parts.size()].record(v);
    std::shuffle(parts.begin(), parts.end(), rng);
    Histogram merged;
    for (const auto& p : parts) merged.merge(p);
    EXPECT_EQ(merged, all) << partitions;
    EXPECT_EQ(merged.overflow(), 1u);
    for (double q : kQs) EXPECT_EQ(merged.percentile(q), all.percentile(q));
    EXPECT_EQ(merged.stddev(), all.stddev());
    EXPECT_EQ(merged.mean(), all.mean());
  }
}

TEST(HistogramMerge, AssociativeAndCommutative) {
  Histogram a, b, c, empty;
  for (auto v : realistic(5000, 1)) a.record(v);
  for (auto v : realistic(3000, 2)) b.record(v * 10);
  c.record(0);
  c.record(Histogram::kMaxValue + 5);
  Histogram ab = a, ba = b, ab_c, a_bc = a, bc = b;
  ab.merge(b);
  ba.merge(a);
  EXPECT_EQ(ab, ba);
  ab_c = ab;
  ab_c.merge(c);
  bc.merge(c);
  a_bc.merge(bc);
  EXPECT_EQ(ab_c, a_bc);
  Histogram with_empty = a;
  with_empty.merge(empty);
  EXPECT_EQ(with_empty, a);
  Histogram from_empty;
  from_empty.merge(a);
  EXPECT_EQ(from_empty, a);
}

TEST(HistogramSerialize, RoundTrips) {
  std::vector<Histogram> hs(5);
  for (auto v : realistic(10'000, 3)) hs[1].record(v);
  hs[2].record(0);
  hs[3].record(Histogram::kMaxValue + 1, 1000);
  hs[3].record(1);
  for (std::uint64_t v = 0; v < 4'000'000'000; v = v * 3 + 1) hs[4].record(v, v + 1);
  for (const auto& h : hs) {
    const auto bytes = h.serialize();
    EXPECT_EQ(Histogram::deserialize(bytes), h);
    const auto b64 = h.to_base64();
    EXPECT_EQ(b64.size() % 4, 0u);
    EXPECT_EQ(
        b64.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="),
        std::string::npos);
    EXPECT_EQ(Histogram::from_base64(b64), h);
    EXPECT_EQ(Histogram::from_base64(b64).serialize(), bytes);
  }
}

TEST(HistogramSerialize, DenseRealisticHistogramIsSmall) {
  Histogram h;
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> d(std::log(2'500.0), 0.5);  // a few ms
  for (int i = 0; i < 1'000'000; ++i) h.record(static_cast<std::uint64_t>(d(rng)));
  const auto bytes = h.serialize();
  EXPECT_LT(bytes.size(), 4096u) << bytes.size();
  EXPECT_LT(h.to_base64().size(), 4096u * 4 / 3 + 4);
  EXPECT_EQ(Histogram::deserialize(bytes), h);
}

Histogram sample_histogram() {
  Histogram h;
  for (auto v : realistic(2000, 4)) h.record(v);
  h.record(Histogram::kMaxValue + 1);
  return h;
}

TEST(HistogramSerialize, EveryTruncationThrows) {
  const auto bytes = sample_histogram().serialize();
  for (std::size_t len = 0; len < bytes.size(); ++len)
    EXPECT_THROW(Histogram::deserialize(std::string_view(bytes).substr(0, len)),
                 std::invalid_argument)
        << len;
  EXPECT_THROW(Histogram::deserialize(bytes + '\0'), std::invalid_argument);
  const auto b64 = sample_histogram().to_base64();
  for (std::size_t len = 0; len < b64.size(); ++len)
    EXPECT_THROW(Histogram::from_base64(std::string_view(b64).substr(0, len)),
                 std::invalid_argument)
        << len;
}

TEST(HistogramSerialize, ByteFlipsThrow) {
  const auto bytes = sample_histogram().serialize();
  std::mt19937_64 rng(2024);
  // every single-byte change is caught (CRC-32), in every position
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ static_cast<char>(1 + rng() % 255));
    EXPECT_THROW(Histogram::deserialize(bad), std::invalid_argument) << i;
  }
  for (int trial = 0; trial < 2000; ++trial) {
    auto bad = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
    if (bad == bytes) continue;
    EXPECT_THROW(Histogram::deserialize(bad), std::invalid_argument) << trial;
  }
}

TEST(HistogramSerialize, Base64Strictness) {
  const auto b64 = sample_histogram().to_base64();
  for (const char* bad : {"", "====", "A===", "AB=C", "ab!d", "AAAA AAAA"})
    EXPECT_THROW(Histogram::from_base64(bad), std::invalid_argument) << bad;
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 500; ++trial) {
    auto bad = b64;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=.-";
    const std::size_t i = rng() % bad.size();
    const char c = alphabet[rng() % 67];
    if (bad[i] == c) continue;
    bad[i] = c;
    EXPECT_THROW(Histogram::from_base64(bad), std::invalid_argument) << trial;
  }
}

// --- structural validation behind a valid checksum (the test computes its own CRC-32) ---

std::uint32_t test_crc32(const std::string& s) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char ch : s) {
    c ^= ch;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

std::string with_crc(std::string body) {
  const auto crc = test_crc32(body);
  for (int k = 0; k < 4; ++k) body.push_back(static_cast<char>((crc >> (8 * k)) & 0xFF));
  return body;
}

void varint(std::string& out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7F) | 0x80));
  out.push_back(static_cast<char>(v));
}

// header + count, sum, min, max, overflow, then (gap, count) pairs
std::string encode(std::vector<std::uint64_t> fields, const std::string& tail = "") {
  std::string body = "KGH";
  body.push_back('\x01');
  for (auto f : fields) varint(body, f);
  return with_crc(body + tail);
}

TEST(HistogramSerialize, OwnChecksumMatches) {
  // guards the helpers below: a hand-encoded histogram of the single value 5
  Histogram h;
  h.record(5);
  EXPECT_EQ(encode({1, 5, 5, 5, 0, 1, 5, 1}), h.serialize());
  EXPECT_EQ(Histogram::deserialize(encode({0, 0, 0, 0, 0, 0})), Histogram());
}

TEST(HistogramSerialize, InconsistentContentThrowsEvenWithAValidChecksum) {
  const std::vector<std::vector<std::uint64_t>> bad = {
      {1, 5, 5, 5, 0, 1, 5, 2},         // buckets add up to 2, count says 1
      {2, 5, 5, 5, 0, 1, 5, 1},         // count says 2, buckets 1
      {1, 5, 5, 5, 0, 1, 5, 0},         // an empty bucket listed
      {1, 5, 6, 6, 0, 1, 5, 1},         // min/max not in the bucket
      {1, 7, 5, 5, 0, 1, 5, 1},         // sum impossible
      {1, 5, 5, 5, 1, 1, 5, 1},         // overflow without the top bucket
      {1, 5, 5, 5, 0, 1, 4000, 1},      // bucket index out of range
      {1, 5, 5, 5, 0, 5000},            // more buckets than exist
      {1, 5, 5, 5, 0, 2, 5, 1},         // truncated bucket list
      {0, 1, 0, 0, 0, 0},               // empty with a sum
      {2, 10, 5, 5, 0, 2, 5, 1, 0, 1},  // min/max vs two buckets
      {1, 5, 5, 5, 0, 1, 5, 1, 0},      // trailing bytes
      {~std::uint64_t{0}, 0, 0, 0, 0, 2, 0, ~std::uint64_t{0}, 0, 1},  // counts overflow
  };
  for (std::size_t i = 0; i < bad.size(); ++i)
    EXPECT_THROW(Histogram::deserialize(encode(bad[i])), std::invalid_argument) << i;
  // a varint longer than 64 bits
  EXPECT_THROW(Histogram::deserialize(encode({}, std::string(10, '\xFF') + '\x01')),
               std::invalid_argument);
  EXPECT_THROW(Histogram::deserialize(encode({}, std::string(9, '\xFF') + '\x02')),
               std::invalid_argument);
  // wrong magic / version
  auto good = Histogram().serialize();
  auto wrong_version = good.substr(0, good.size() - 4);
  wrong_version[3] = 2;
  EXPECT_THROW(Histogram::deserialize(with_crc(wrong_version)), std::invalid_argument);
}

// Random payloads behind a valid checksum: deserialize either throws or returns a histogram
// that is internally consistent. Must never crash or read out of bounds (run under ASan).
TEST(HistogramSerialize, FuzzedPayloadsAreRejectedOrConsistent) {
  std::mt19937_64 rng(777);
  const auto base = sample_histogram().serialize();
  const std::string body = base.substr(0, base.size() - 4);
  int accepted = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    std::string b = body;
    switch (trial % 3) {
      case 0:  // mutate a few bytes after the header
        for (int f = 0; f < 1 + trial % 5; ++f)
          b[4 + rng() % (b.size() - 4)] = static_cast<char>(rng());
        break;
      case 1:  // cut and splice
        b = b.substr(0, 4 + rng() % (b.size() - 4)) + b.substr(4 + rng() % (b.size() - 4));
        break;
      default:  // random tail
        b.resize(4);
        for (std::size_t k = 0, n = rng() % 40; k < n; ++k) b.push_back(static_cast<char>(rng()));
    }
    try {
      const Histogram h = Histogram::deserialize(with_crc(b));
      ++accepted;
      std::uint64_t total = 0;
      for (std::size_t i = 0; i < Histogram::kBucketCount; ++i) total += h.bucket_count_at(i);
      EXPECT_EQ(total, h.count());
      EXPECT_LE(h.min(), h.max());
      for (double q : kQs) {
        EXPECT_GE(h.percentile(q), h.min());
        EXPECT_LE(h.percentile(q), h.max());
      }
      EXPECT_EQ(Histogram::deserialize(h.serialize()), h);
    } catch (const std::invalid_argument&) {
    }
  }
  EXPECT_LT(accepted, 5000);
}

}  // namespace
