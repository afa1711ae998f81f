// Distributed load without a cluster: the schedule split (worker i's share of the closed-form
// schedule; together the shares are the whole schedule, each iteration once) and the exact merge
// of the workers' reports (histograms bucket by bucket, series by interval), read back from logs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "kgate/base64.hpp"
#include "kgate/distributed/job.hpp"
#include "kgate/distributed/plan.hpp"
#include "kgate/distributed/report.hpp"
#include "kgate/distributed/todo_mix.hpp"
#include "kgate/load/executor.hpp"
#include "kgate/load/histogram.hpp"
#include "kgate/log_block.hpp"

namespace {

using kgate::load::ExecutorSpec;
using kgate::load::Histogram;
using kgate::load::IntervalStats;
using kgate::load::LoadResult;
using kgate::load::Nanos;
using namespace std::chrono_literals;

constexpr double kQs[] = {0, 1, 25, 50, 75, 90, 95, 99, 99.9, 100};

std::vector<ExecutorSpec> open_schedules() {
  std::vector<ExecutorSpec> out;
  ExecutorSpec c;
  c.type = "constant-arrival-rate";
  c.rate = 333;  // not a multiple of any worker count below
  c.duration = 3s;
  out.push_back(c);
  ExecutorSpec r;
  r.type = "ramping-arrival-rate";
  r.start_rate = 7;
  r.stages = {{1500ms, 101}, {2s, 101}, {700ms, 0}};
  out.push_back(r);
  ExecutorSpec tiny;  // fewer iterations than workers
  tiny.type = "constant-arrival-rate";
  tiny.rate = 2;
  tiny.duration = 1s;
  out.push_back(tiny);
  return out;
}

TEST(ScheduleSplit, OpenModelSharesAreTheWholeScheduleEachIterationOnce) {
  for (const auto& spec : open_schedules()) {
    std::shared_ptr<const kgate::load::Executor> whole = kgate::load::make_executor(spec);
    const std::uint64_t total = whole->total_iterations();
    ASSERT_GT(total, 0u) << whole->describe();
    ASSERT_FALSE(whole->arrival(total).has_value());
    for (int n : {1, 2, 3, 7}) {
      SCOPED_TRACE(whole->describe() + " on " + std::to_string(n) + " workers");
      std::multiset<std::uint64_t> seen;  // whole-schedule indices, duplicates kept to count them
      std::uint64_t share_totals = 0;
      for (int w = 0; w < n; ++w) {
        auto share = kgate::load::share_of(whole, w, n);
        EXPECT_TRUE(share->open_model());
        EXPECT_EQ(share->duration(), whole->duration());
        const std::uint64_t mine = share->total_iterations();
        share_totals += mine;
        std::uint64_t i = 0;
        for (; auto at = share->arrival(i); ++i) {
          ASSERT_LT(i, total + 1) << "a share never ends";
          const std::uint64_t j = i * static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(w);
          EXPECT_EQ(j % static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(w));
          // At the very instant the whole schedule gives that iteration.
          ASSERT_EQ(*at, *whole->arrival(j)) << "iteration " << j;
          seen.insert(j);
        }
        EXPECT_EQ(i, mine) << "worker " << w << ": arrivals vs total_iterations()";
      }
      EXPECT_EQ(share_totals, total);
      ASSERT_EQ(seen.size(), total);  // no iteration twice
      std::uint64_t expect = 0;
      for (auto j : seen) EXPECT_EQ(j, expect++);  // and none missing: exactly 0..total-1
    }
  }
}

TEST(ScheduleSplit, ClosedModelSharesAddUpToTheWholeVusAtEveryInstant) {
  ExecutorSpec constant;
  constant.type = "constant-vus";
  constant.vus = 10;
  constant.duration = 2s;
  ExecutorSpec ramp;
  ramp.type = "ramping-vus";
  ramp.start_vus = 1;
  ramp.stages = {{2s, 13}, {1s, 13}, {2s, 0}};
  for (const auto& spec : {constant, ramp}) {
    std::shared_ptr<const kgate::load::Executor> whole = kgate::load::make_executor(spec);
    for (int n : {1, 3, 4, 16}) {
      SCOPED_TRACE(whole->describe() + " on " + std::to_string(n) + " workers");
      int max_sum = 0;
      std::vector<std::unique_ptr<kgate::load::Executor>> shares;
      for (int w = 0; w < n; ++w) {
        shares.push_back(kgate::load::share_of(whole, w, n));
        EXPECT_FALSE(shares.back()->open_model());
        EXPECT_EQ(shares.back()->think_time(), whole->think_time());
        max_sum += shares.back()->max_vus();
      }
      EXPECT_EQ(max_sum, whole->max_vus());
      for (Nanos t{0}; t <= whole->duration(); t += 50ms) {
        int sum = 0;
        for (int w = 0; w < n; ++w) {
          const int mine = shares[static_cast<std::size_t>(w)]->vus_at(t);
          // Worker w runs the VUs v ≡ w (mod n): at most one more than any other worker.
          EXPECT_LE(mine, (whole->vus_at(t) + n - 1) / n);
          sum += mine;
        }
        ASSERT_EQ(sum, whole->vus_at(t)) << "at " << t.count() << " ns";
      }
    }
  }
}

TEST(ScheduleSplit, RefusesAWorkerOutsideTheJob) {
  ExecutorSpec c;
  c.type = "constant-arrival-rate";
  c.rate = 10;
  c.duration = 1s;
  std::shared_ptr<const kgate::load::Executor> whole = kgate::load::make_executor(c);
  EXPECT_THROW(kgate::load::share_of(whole, 3, 3), std::invalid_argument);
  EXPECT_THROW(kgate::load::share_of(whole, -1, 3), std::invalid_argument);
  EXPECT_THROW(kgate::load::share_of(whole, 0, 0), std::invalid_argument);
  EXPECT_THROW(kgate::load::share_of(nullptr, 0, 1), std::invalid_argument);
}

// A worker's result from its samples: per-interval histograms (serialized, as workers keep
// them) and the whole run's, with counters.
struct Part {
  LoadResult result;
  std::vector<std::vector<std::uint64_t>> by_interval;  // latencies, for the exact reference
};

Part make_part(std::mt19937_64& rng, int intervals, int per_interval, std::uint64_t spread) {
  Part p;
  auto& s = p.result.summary;
  std::lognormal_distribution<double> lat(std::log(static_cast<double>(spread)), 0.9);
  for (int i = 0; i < intervals; ++i) {
    Histogram hl, hs;
    IntervalStats st;
    st.start_s = i;
    std::vector<std::uint64_t> vals;
    for (int k = 0; k < per_interval + i * 3; ++k) {
      const auto v = static_cast<std::uint64_t>(lat(rng)) + 1;
      const std::uint64_t service = v / 2;
      hl.record(v);
      hs.record(service);
      s.latency.record(v);
      s.service.record(service);
      vals.push_back(v);
    }
    st.requests = st.completed = vals.size();
    st.errors["timeout"] = static_cast<std::uint64_t>(i % 2);
    st.latency_histogram = hl.serialize();
    st.service_histogram = hs.serialize();
    st.p95_us = hl.percentile(95);
    s.requests += st.requests;
    s.completed += st.completed;
    s.errors["timeout"] += st.errors["timeout"];
    p.result.series.push_back(std::move(st));
    p.by_interval.push_back(std::move(vals));
  }
  s.status_codes[200] = s.completed;
  s.duration_s = intervals;
  p.result.threads = 2;
  return p;
}

TEST(Merge, PercentilesEqualThoseOfOneHistogramOfEverySample) {
  std::mt19937_64 rng(19);
  // Three workers with different latency profiles and lengths (one ended an interval early).
  std::vector<Part> parts{make_part(rng, 5, 400, 800), make_part(rng, 5, 250, 20'000),
                          make_part(rng, 4, 600, 90)};
  std::vector<const LoadResult*> ptrs;
  Histogram all;
  std::map<std::size_t, Histogram> all_by_interval;
  std::uint64_t requests = 0;
  for (const auto& p : parts) {
    ptrs.push_back(&p.result);
    requests += p.result.summary.requests;
    for (std::size_t i = 0; i < p.by_interval.size(); ++i)
      for (auto v : p.by_interval[i]) {
        all.record(v);
        all_by_interval[i].record(v);
      }
  }
  const LoadResult m = kgate::dist::merge_results(ptrs, "whole", "GET /");
  const auto& s = m.summary;
  EXPECT_EQ(s.requests, requests);
  EXPECT_EQ(s.completed, requests);
  EXPECT_EQ(s.status_codes.at(200), requests);
  EXPECT_EQ(s.errors.at("timeout"), 2u + 2u + 2u);
  EXPECT_EQ(m.threads, 6);
  ASSERT_EQ(s.latency.count(), all.count());
  EXPECT_EQ(s.latency.sum(), all.sum());
  EXPECT_EQ(s.latency.min(), all.min());
  EXPECT_EQ(s.latency.max(), all.max());
  for (double q : kQs) EXPECT_EQ(s.latency.percentile(q), all.percentile(q)) << "p" << q;
  // Not merely close: the merged histogram is the one histogram, bucket for bucket.
  EXPECT_EQ(s.latency.serialize(), all.serialize());

  ASSERT_EQ(m.series.size(), 5u);  // the longest part's length
  for (std::size_t i = 0; i < m.series.size(); ++i) {
    SCOPED_TRACE("interval " + std::to_string(i));
    const auto& iv = m.series[i];
    std::uint64_t want = 0;
    for (const auto& p : parts)
      if (i < p.by_interval.size()) want += p.by_interval[i].size();
    EXPECT_EQ(iv.requests, want);
    EXPECT_DOUBLE_EQ(iv.start_s, static_cast<double>(i));
    EXPECT_EQ(iv.p50_us, all_by_interval[i].percentile(50));
    EXPECT_EQ(iv.p95_us, all_by_interval[i].percentile(95));
    EXPECT_EQ(iv.p99_us, all_by_interval[i].percentile(99));
    EXPECT_EQ(iv.max_us, all_by_interval[i].max());
    EXPECT_DOUBLE_EQ(iv.rps, static_cast<double>(iv.completed));
  }
}

TEST(Merge, ReportsRoundTripThroughALogAndMergeToTheSameFigures) {
  std::mt19937_64 rng(7);
  std::vector<Part> parts{make_part(rng, 3, 300, 1000), make_part(rng, 3, 200, 3000),
                          make_part(rng, 3, 100, 50)};
  std::string log = "kgate load worker 0/3: waiting for the start signal\n";
  for (int i = 0; i < 3; ++i) {
    kgate::dist::WorkerReport r;
    r.run_id = "abc123";
    r.index = i;
    r.workers = 3;
    r.result = parts[static_cast<std::size_t>(i)].result;
    // Progress blocks and an unrelated run's report interleave; only this run's count.
    log += kgate::log_block::encode(kgate::dist::kProgressKind,
                                    kgate::dist::progress_to_json({"abc123", i, 1.0, 10, 0, 0}));
    log += kgate::log_block::encode(kgate::dist::kReportKind, kgate::dist::report_to_json(r));
  }
  kgate::dist::WorkerReport other;
  other.run_id = "other";
  other.workers = 3;
  log += kgate::log_block::encode(kgate::dist::kReportKind, kgate::dist::report_to_json(other));

  std::vector<kgate::dist::WorkerReport> read;
  for (int i = 0; i < 3; ++i) {
    auto r = kgate::dist::find_report(log, "abc123", i);
    ASSERT_TRUE(r.has_value()) << "worker " << i;
    read.push_back(std::move(*r));
  }
  std::vector<const LoadResult*> direct, back;
  for (const auto& p : parts) direct.push_back(&p.result);
  for (const auto& r : read) back.push_back(&r.result);
  const auto a = kgate::dist::merge_results(direct, "x", "y");
  const auto b = kgate::dist::merge_results(back, "x", "y");
  EXPECT_EQ(a.summary.requests, b.summary.requests);
  EXPECT_EQ(a.summary.latency.serialize(), b.summary.latency.serialize());
  EXPECT_EQ(a.summary.service.serialize(), b.summary.service.serialize());
  ASSERT_EQ(a.series.size(), b.series.size());
  for (std::size_t i = 0; i < a.series.size(); ++i) {
    EXPECT_EQ(a.series[i].latency_histogram, b.series[i].latency_histogram);
    EXPECT_EQ(a.series[i].requests, b.series[i].requests);
  }
  auto p = kgate::dist::find_progress(log, "abc123", 2);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->requests, 10u);
  EXPECT_FALSE(kgate::dist::find_report(log, "abc123", 3).has_value());
}

TEST(Merge, ATruncatedReportIsNeverHalfRead) {
  std::mt19937_64 rng(3);
  kgate::dist::WorkerReport r;
  r.run_id = "abc123";
  r.workers = 1;
  r.result = make_part(rng, 2, 100, 500).result;
  const std::string block =
      kgate::log_block::encode(kgate::dist::kReportKind, kgate::dist::report_to_json(r));
  // A worker killed while writing: the block is cut off.
  const std::string cut = block.substr(0, block.size() / 2);
  std::vector<std::string> problems;
  EXPECT_FALSE(kgate::dist::find_report(cut, "abc123", 0, &problems).has_value());
  EXPECT_TRUE(kgate::dist::find_report(block, "abc123", 0).has_value());
}

TEST(Plan, RoundTripsAndRefusesCredentialsInTheJobSpec) {
  kgate::dist::WorkerPlan p;
  p.run_id = "0123456789";
  p.workers = 3;
  p.executor.type = "ramping-arrival-rate";
  p.executor.stages = {{1s, 10}, {2s, 0}};
  p.request.url = "http://todo-backend:7860/health";
  p.request.headers = {{"X-Test", "1"}};
  p.engine.connections = 17;
  const auto back = kgate::dist::plan_from_json(kgate::dist::to_json(p));
  EXPECT_EQ(back.run_id, p.run_id);
  EXPECT_EQ(back.workers, 3);
  ASSERT_EQ(back.executor.stages.size(), 2u);
  EXPECT_EQ(back.executor.stages[0].duration, Nanos(1s));
  EXPECT_EQ(back.request.headers, p.request.headers);
  EXPECT_EQ(back.engine.connections, 17);
  EXPECT_EQ(kgate::load::make_executor(back.executor)->total_iterations(),
            kgate::load::make_executor(p.executor)->total_iterations());

  kgate::load::RequestSpec bad = p.request;
  bad.headers = {{"Authorization", "Bearer abc.def.ghi"}};
  EXPECT_THROW(kgate::dist::check_no_credentials(bad), std::invalid_argument);
  EXPECT_NO_THROW(kgate::dist::check_no_credentials(p.request));
  EXPECT_THROW(kgate::dist::plan_from_json({{"schema", "kgate/load-plan/v0"}}),
               std::invalid_argument);
}

TEST(Job, IsIndexedNonRootWithoutTokenAndNeverRetriesAWorker) {
  kgate::dist::WorkerPlan p;
  p.run_id = "0123456789";
  p.workers = 4;
  p.executor.type = "constant-arrival-rate";
  p.executor.rate = 10;
  p.executor.duration = 1s;
  p.request.url = "http://x/";
  kgate::dist::DistOptions o;
  const auto j = kgate::dist::job_manifest(o, p, std::chrono::seconds(100));
  const auto& spec = j["spec"];
  EXPECT_EQ(spec["completionMode"], "Indexed");
  EXPECT_EQ(spec["completions"], 4);
  EXPECT_EQ(spec["parallelism"], 4);
  EXPECT_EQ(spec["backoffLimitPerIndex"], 0);
  const auto& pod = spec["template"]["spec"];
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(pod["restartPolicy"], "Never");
  EXPECT_EQ(pod["containers"][0]["resources"]["requests"]["cpu"], "250m");
  EXPECT_TRUE(kgate::dist::is_quantity("1.5Gi"));
  EXPECT_TRUE(kgate::dist::is_quantity("500m"));
  EXPECT_FALSE(kgate::dist::is_quantity("lots"));
}

// The todo mix on workers: each identity goes to exactly one worker, every worker gets at least
// one, and fewer identities than workers is refused.
TEST(TodoMixOnWorkers, EachIdentityGoesToExactlyOneWorker) {
  for (int workers : {1, 2, 3, 7})
    for (std::size_t identities :
         {std::size_t(workers), std::size_t(workers) + 1, std::size_t(20)}) {
      SCOPED_TRACE(std::to_string(identities) + " identities, " + std::to_string(workers) +
                   " workers");
      const auto shares = kgate::dist::split_identities(identities, workers);
      ASSERT_EQ(shares.size(), static_cast<std::size_t>(workers));
      std::vector<int> seen(identities, 0);
      std::size_t smallest = identities, largest = 0;
      for (const auto& share : shares) {
        EXPECT_FALSE(share.empty());
        smallest = std::min(smallest, share.size());
        largest = std::max(largest, share.size());
        for (auto i : share) {
          ASSERT_LT(i, identities);
          ++seen[i];
        }
      }
      for (std::size_t i = 0; i < identities; ++i) EXPECT_EQ(seen[i], 1) << "identity " << i;
      EXPECT_LE(largest - smallest, 1u);  // as even as it gets
    }
  EXPECT_THROW(kgate::dist::split_identities(2, 3), std::invalid_argument);
  EXPECT_THROW(kgate::dist::split_identities(0, 1), std::invalid_argument);
}

// The tokens reach the workers through the run's Secret: the Job's spec (args, env, the plan)
// names the Secret and never holds a token; each worker reads back exactly its own identities.
TEST(TodoMixOnWorkers, TokensTravelInTheRunSecretNeverInTheJobSpec) {
  kgate::dist::WorkerPlan p;
  p.run_id = "0123456789";
  p.workers = 3;
  p.executor.type = "constant-arrival-rate";
  p.executor.rate = 30;
  p.executor.duration = 1s;
  p.request.url = "http://todo-backend:7860";
  kgate::load::TodoMixOptions mix;
  mix.base_url = "http://todo-backend:7860";
  mix.title_prefix = "kgate-load-abc123";
  mix.complete_method = "POST";
  mix.list = 5;
  for (int i = 0; i < 5; ++i)
    mix.identities.push_back(
        {"user-" + std::to_string(i), "token-" + std::to_string(i) + "-s3cr3t"});
  kgate::dist::DistOptions o;
  kgate::dist::put_todo_mix(mix, p, o);
  EXPECT_EQ(p.scenario, "todo-mix");

  const auto job = kgate::dist::job_manifest(o, p, std::chrono::seconds(100));
  const std::string spec_text = job.dump();
  for (const auto& id : mix.identities)
    EXPECT_EQ(spec_text.find(id.token), std::string::npos) << id.token << " is in the Job's spec";
  EXPECT_EQ(spec_text.find("s3cr3t"), std::string::npos);
  const auto& container = job["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["args"], nlohmann::json::array({"load-worker"}));
  bool by_ref = false;
  for (const auto& e : container["env"]) {
    EXPECT_FALSE(e.contains("value") && e["name"] == kgate::dist::kIdentitiesEnv) << e.dump();
    if (e["name"] == kgate::dist::kIdentitiesEnv) {
      by_ref = true;
      EXPECT_EQ(e["valueFrom"]["secretKeyRef"]["name"], kgate::dist::secret_name(p.run_id));
      EXPECT_EQ(e["valueFrom"]["secretKeyRef"]["key"], kgate::dist::kIdentitiesEnv);
    }
  }
  EXPECT_TRUE(by_ref) << container["env"].dump();

  const auto secret = kgate::dist::secret_manifest(o, p);
  EXPECT_EQ(secret["kind"], "Secret");
  EXPECT_EQ(secret["metadata"]["name"], kgate::dist::secret_name(p.run_id));
  EXPECT_EQ(secret["metadata"]["labels"][kgate::dist::kRunLabel], p.run_id);
  const auto value =
      kgate::base64_decode(secret["data"][kgate::dist::kIdentitiesEnv].get<std::string>());
  ASSERT_TRUE(value.has_value());

  // Through the plan as the pod reads it: each worker its own identities, together all of them.
  const auto back = kgate::dist::plan_from_json(kgate::dist::to_json(p));
  std::map<std::string, int> owner;
  for (int w = 0; w < 3; ++w) {
    const auto m = kgate::dist::worker_todo_mix(back, w, *value);
    EXPECT_EQ(m.base_url, mix.base_url);
    EXPECT_EQ(m.title_prefix, mix.title_prefix);
    EXPECT_EQ(m.complete_method, "POST");
    EXPECT_EQ(m.list, 5u);
    EXPECT_FALSE(m.identities.empty());
    for (const auto& id : m.identities) {
      EXPECT_EQ(owner.count(id.user_id), 0u) << id.user_id << " given to two workers";
      owner[id.user_id] = w;
      EXPECT_EQ(id.token, "token-" + id.user_id.substr(5) + "-s3cr3t");
    }
  }
  EXPECT_EQ(owner.size(), mix.identities.size());
  EXPECT_THROW(kgate::dist::worker_todo_mix(back, 3, *value), std::invalid_argument);
  kgate::dist::WorkerPlan other = back;
  other.run_id = "9876543210";
  EXPECT_THROW(kgate::dist::worker_todo_mix(other, 0, *value), std::invalid_argument);
  EXPECT_THROW(kgate::dist::worker_todo_mix(back, 0, "not json"), std::invalid_argument);

  // More workers than identities: refused before anything is created.
  kgate::dist::WorkerPlan many = p;
  many.workers = 6;
  kgate::dist::DistOptions o2;
  EXPECT_THROW(kgate::dist::put_todo_mix(mix, many, o2), std::invalid_argument);
  EXPECT_TRUE(o2.run_secret.empty());

  // Without a run Secret the Job names none.
  kgate::dist::DistOptions plain;
  kgate::dist::WorkerPlan request = p;
  request.scenario = "request";
  EXPECT_EQ(kgate::dist::job_manifest(plain, request, std::chrono::seconds(100))
                .dump()
                .find("secretKeyRef"),
            std::string::npos);
}

TEST(TodoMixOnWorkers, TheSecretIsOwnedByTheJob) {
  const nlohmann::json job = {{"apiVersion", "batch/v1"},
                              {"kind", "Job"},
                              {"metadata", {{"name", "kgate-load-0123456789"}, {"uid", "u-1"}}}};
  const auto ref = kgate::dist::owner_reference(job);
  EXPECT_EQ(ref["kind"], "Job");
  EXPECT_EQ(ref["apiVersion"], "batch/v1");
  EXPECT_EQ(ref["name"], "kgate-load-0123456789");
  EXPECT_EQ(ref["uid"], "u-1");
}

}  // namespace
