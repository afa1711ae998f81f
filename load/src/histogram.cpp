#include "kgate/load/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kgate::load {

namespace hl = histogram_layout;

namespace {

constexpr char kMagic[3] = {'K', 'G', 'H'};
constexpr unsigned char kVersion = 1;
constexpr std::uint64_t kMax64 = ~std::uint64_t{0};

std::uint64_t sat_add(std::uint64_t a, std::uint64_t b) {
  return a + b < a ? kMax64 : a + b;
}
std::uint64_t sat_mul(std::uint64_t a, std::uint64_t b) {
  return a != 0 && b > kMax64 / a ? kMax64 : a * b;
}

// CRC-32 (IEEE 802.3, reflected): detects every corrupted byte and every burst up to 32 bits,
// which structural checks alone cannot (a flipped bucket count can still look plausible).
constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = make_crc_table();

std::uint32_t crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

[[noreturn]] void corrupt(const std::string& why) {
  throw std::invalid_argument("histogram: corrupt serialized data: " + why);
}

// Bounds-checked reader over the payload (never reads past `end`).
struct Reader {
  std::string_view data;
  std::size_t pos = 0;

  std::uint64_t varint(const char* what) {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (pos >= data.size()) corrupt(std::string("truncated at ") + what);
      const auto byte = static_cast<unsigned char>(data[pos++]);
      // The 10th byte may only carry the top bit of a 64-bit value.
      if (shift == 63 && byte > 1) corrupt(std::string("varint too long at ") + what);
      v |= std::uint64_t{byte & 0x7Fu} << shift;
      if (!(byte & 0x80)) return v;
    }
    corrupt(std::string("varint too long at ") + what);
  }
};

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

double Histogram::mean() const {
  return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
}

double Histogram::stddev() const {
  if (count_ == 0) return 0.0;
  const double m = mean();
  double acc = 0;
  // Each bucket's values are taken at its midpoint, clamped to [min, max] so that a histogram of
  // equal values has a deviation of exactly 0. Deterministic, so merged histograms agree.
  for (std::size_t i = hl::bucket_index(min_), last = hl::bucket_index(max_); i <= last; ++i) {
    if (!counts_[i]) continue;
    const double lo = static_cast<double>(std::max(hl::bucket_lower(i), min_));
    const double hi = static_cast<double>(std::min(hl::bucket_upper(i), max_));
    const double d = (lo + hi) / 2 - m;
    acc += static_cast<double>(counts_[i]) * d * d;
  }
  return std::sqrt(acc / static_cast<double>(count_));
}

std::uint64_t Histogram::percentile(double q) const {
  if (!(q >= 0 && q <= 100))  // also catches NaN
    throw std::invalid_argument("histogram: percentile must be in [0, 100], got " +
                                std::to_string(q));
  if (count_ == 0) return 0;
  // rank = ceil(q/100 * count) in integer arithmetic with q in millionths of a percent: in
  // floating point 99.9% of 1000 is 999.0000000000001, which would pick the wrong sample.
  constexpr std::uint64_t kScale = 100'000'000;  // 100% in millionths
  const auto qm = static_cast<std::uint64_t>(std::llround(q * 1e6));
  const std::uint64_t hi = count_ / kScale, lo = count_ % kScale;
  const std::uint64_t rank = qm * hi + (qm * lo + kScale - 1) / kScale;  // no overflow: see kScale
  if (rank <= 1) return min_;
  if (rank >= count_) return max_;
  std::uint64_t seen = 0;
  for (std::size_t i = hl::bucket_index(min_), last = hl::bucket_index(max_); i <= last; ++i) {
    seen += counts_[i];
    // The bucket's upper bound: never below the exact order statistic (safe for gates).
    if (seen >= rank) return std::clamp(hl::bucket_upper(i), min_, max_);
  }
  return max_;  // unreachable: the buckets sum to count_
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ = sat_add(sum_, other.sum_);
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  overflow_ += other.overflow_;
}

void Histogram::reset() {
  counts_.fill(0);
  count_ = sum_ = max_ = overflow_ = 0;
  min_ = kSaturated;
}

std::string Histogram::serialize() const {
  std::string out(kMagic, sizeof kMagic);
  out.push_back(static_cast<char>(kVersion));
  std::size_t nonzero = 0;
  for (auto c : counts_) nonzero += c != 0;
  put_varint(out, count_);
  put_varint(out, sum_);
  put_varint(out, min());
  put_varint(out, max_);
  put_varint(out, overflow_);
  put_varint(out, nonzero);
  std::size_t next = 0;  // index just after the previous non-empty bucket
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    if (!counts_[i]) continue;
    put_varint(out, i - next);  // mostly 0 or small for real latency data: one byte
    put_varint(out, counts_[i]);
    next = i + 1;
  }
  const std::uint32_t crc = crc32(out);
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((crc >> (8 * k)) & 0xFF));
  return out;
}

Histogram Histogram::deserialize(std::string_view bytes) {
  constexpr std::size_t kHeader = sizeof kMagic + 1, kCrc = 4;
  if (bytes.size() < kHeader + kCrc) corrupt("too short");
  if (bytes.substr(0, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic))
    corrupt("not a kgate histogram");
  if (static_cast<unsigned char>(bytes[sizeof kMagic]) != kVersion)
    corrupt("unsupported version " +
            std::to_string(static_cast<unsigned char>(bytes[sizeof kMagic])));
  const std::string_view body = bytes.substr(0, bytes.size() - kCrc);
  std::uint32_t stored = 0;
  for (std::size_t k = 0; k < kCrc; ++k)
    stored |= std::uint32_t{static_cast<unsigned char>(bytes[body.size() + k])} << (8 * k);
  if (crc32(body) != stored) corrupt("checksum mismatch");

  Reader r{body, kHeader};
  Histogram h;
  const std::uint64_t count = r.varint("count");
  const std::uint64_t sum = r.varint("sum");
  const std::uint64_t min = r.varint("min");
  const std::uint64_t max = r.varint("max");
  const std::uint64_t overflow = r.varint("overflow");
  const std::uint64_t nonzero = r.varint("bucket count");
  if (nonzero > kBucketCount) corrupt("too many buckets");
  std::uint64_t total = 0, lo_sum = 0, hi_sum = 0;
  std::size_t next = 0, first = kBucketCount, last = 0;
  for (std::uint64_t b = 0; b < nonzero; ++b) {
    const std::uint64_t gap = r.varint("bucket gap");
    if (gap >= kBucketCount - next) corrupt("bucket index out of range");
    const std::size_t i = next + static_cast<std::size_t>(gap);
    const std::uint64_t c = r.varint("bucket count");
    if (c == 0) corrupt("empty bucket listed");
    if (total + c < total) corrupt("counts overflow");
    total += c;
    h.counts_[i] = c;
    first = std::min(first, i);
    last = i;
    next = i + 1;
    lo_sum = sat_add(lo_sum, sat_mul(c, std::max(hl::bucket_lower(i), min)));
    hi_sum = sat_add(hi_sum, sat_mul(c, std::min(hl::bucket_upper(i), max)));
  }
  if (r.pos != body.size()) corrupt("trailing bytes");
  if (total != count) corrupt("bucket counts do not add up to the total");
  if (count == 0) {
    if (sum || min || max || overflow) corrupt("empty histogram with values");
    return h;
  }
  // min and max must sit in the first and last non-empty buckets, the sum between the bounds
  // the buckets allow, and overflowed values (clamped to kMaxValue) in the top bucket.
  if (min > max || max > kMaxValue || hl::bucket_index(min) != first ||
      hl::bucket_index(max) != last)
    corrupt("min/max do not match the buckets");
  if (sum < lo_sum || sum > hi_sum) corrupt("sum does not match the buckets");
  if (overflow > h.counts_[kBucketCount - 1] || (overflow && max != kMaxValue))
    corrupt("overflow count does not match the buckets");
  h.count_ = count;
  h.sum_ = sum;
  h.min_ = min;
  h.max_ = max;
  h.overflow_ = overflow;
  return h;
}

std::string Histogram::to_base64() const {
  const std::string raw = serialize();
  std::string out;
  out.reserve((raw.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= raw.size(); i += 3) {
    const std::uint32_t v = std::uint32_t{static_cast<unsigned char>(raw[i])} << 16 |
                            std::uint32_t{static_cast<unsigned char>(raw[i + 1])} << 8 |
                            static_cast<unsigned char>(raw[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(kB64[(v >> (6 * k)) & 63]);
  }
  if (const std::size_t rest = raw.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(raw[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(raw[i + 1])} << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Histogram Histogram::from_base64(std::string_view text) {
  if (text.size() % 4 != 0)
    throw std::invalid_argument("histogram: base64 length not a multiple of 4");
  std::string raw;
  raw.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool final_group = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      // '=' only at the end of the last group, at most two of them
      if (c == '=' && final_group && k >= 2 && (k == 3 || text[i + 3] == '=')) {
        v[k] = 0;
        ++pad;
        continue;
      }
      v[k] = b64_value(c);
      if (v[k] < 0 || pad) throw std::invalid_argument("histogram: invalid base64");
    }
    const std::uint32_t bits =
        static_cast<std::uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    // Canonical form only: the bits the padding drops must be zero.
    if ((pad == 1 && (bits & 0xFF)) || (pad == 2 && (bits & 0xFFFF)))
      throw std::invalid_argument("histogram: invalid base64");
    raw.push_back(static_cast<char>((bits >> 16) & 0xFF));
    if (pad < 2) raw.push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (pad < 1) raw.push_back(static_cast<char>(bits & 0xFF));
  }
  return deserialize(raw);
}

Percentiles percentiles(const Histogram& h) {
  Percentiles p;
  if (h.count() == 0) return p;
  p.p50 = h.percentile(50);
  p.p90 = h.percentile(90);
  p.p95 = h.percentile(95);
  p.p99 = h.percentile(99);
  p.p999 = h.percentile(99.9);
  p.max = h.max();
  return p;
}

}  // namespace kgate::load
