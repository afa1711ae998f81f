// Micro-benchmark (not a test): ns per Histogram::record() over 10^8 records.
//   g++ -std=c++20 -O2 -Iload/include load/bench/histogram_bench.cpp load/src/histogram.cpp
//       -o /tmp/histogram_bench && /tmp/histogram_bench
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "kgate/load/histogram.hpp"

namespace {

using kgate::load::Histogram;
using Clock = std::chrono::steady_clock;

template <class F>
double ns_per_op(std::uint64_t n, F&& f) {
  const auto t0 = Clock::now();
  f();
  const std::chrono::duration<double, std::nano> d = Clock::now() - t0;
  return d.count() / static_cast<double>(n);
}

}  // namespace

int main() {
  constexpr std::uint64_t kRecords = 100'000'000;
  // Latency-like values, precomputed so the loop measures record() and not the generator.
  std::vector<std::uint64_t> values(1 << 16);
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> d(std::log(2'000.0), 1.0);
  for (auto& v : values) v = static_cast<std::uint64_t>(d(rng));
  const std::size_t mask = values.size() - 1;

  Histogram h;
  const double mixed = ns_per_op(kRecords, [&] {
    for (std::uint64_t i = 0; i < kRecords; ++i) h.record(values[i & mask]);
  });
  Histogram c;
  const double constant = ns_per_op(kRecords, [&] {
    for (std::uint64_t i = 0; i < kRecords; ++i) c.record(1234 + (i & 7));
  });
  Histogram m;
  const double merge = ns_per_op(1000, [&] {
    for (int i = 0; i < 1000; ++i) m.merge(h);
  });
  std::uint64_t sink = 0;
  const double pct = ns_per_op(1000, [&] {
    for (int i = 0; i < 1000; ++i) sink += h.percentile(99.9);
  });
  std::string bytes;
  const double ser = ns_per_op(100, [&] {
    for (int i = 0; i < 100; ++i) bytes = h.serialize();
  });

  std::printf("record(): %.2f ns/record over %llu records (lognormal values)\n", mixed,
              static_cast<unsigned long long>(kRecords));
  std::printf("record(): %.2f ns/record (a few hot buckets)\n", constant);
  std::printf("merge(): %.0f ns, percentile(): %.0f ns, serialize(): %.0f ns (%zu bytes)\n", merge,
              pct, ser, bytes.size());
  // Use the results so nothing is optimized away.
  std::printf("(check: %llu %llu %llu %llu)\n", static_cast<unsigned long long>(h.count()),
              static_cast<unsigned long long>(c.percentile(50)),
              static_cast<unsigned long long>(m.count()), static_cast<unsigned long long>(sink));
  return 0;
}
