// GoogleTest hosted in kgate's process. The listener turns each test into a CheckResult: its
// failures, skip reason, and what the check recorded in the run context (evidence, properties).
#include "kgate/runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <iostream>

#include "kgate/check.hpp"
#include "kgate/redact.hpp"

namespace kgate {
namespace {

const std::vector<std::string> kSuiteNames{"smoke", "security", "resilience", "load"};

std::string capitalized(const std::string& s) {
  std::string out = s;
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

class ResultCollector : public ::testing::EmptyTestEventListener {
 public:
  ResultCollector(RunContext& c, bool verbose) : c_(c), verbose_(verbose) {}

  void OnTestStart(const ::testing::TestInfo&) override {
    c_.begin_check();
    failures_.clear();
    started_ = std::chrono::steady_clock::now();
  }

  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (r.skipped()) return;
    if (r.failed()) {
      std::string where =
          r.file_name() ? std::string(r.file_name()) + ":" + std::to_string(r.line_number()) : "";
      std::string msg = r.message();
      if (msg.rfind("Failed\n", 0) == 0) msg = msg.substr(7);  // FAIL()'s preamble
      failures_.push_back({msg, where});
    }
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    CheckRecord rec = c_.end_check();
    CheckResult res;
    auto [suite, group] = split_suite_name(info.test_suite_name());
    res.suite = suite;
    res.classname = suite + "." + group;
    res.name = info.name();
    res.title = rec.title;
    res.severity = rec.severity;
    res.owasp = rec.owasp;
    res.properties = std::move(rec.properties);
    res.evidence = std::move(rec.evidence);
    res.charts = std::move(rec.charts);
    res.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const auto* result = info.result();
    if (result->Skipped()) {
      res.status = CheckStatus::Skipped;
      for (int i = 0; i < result->total_part_count(); ++i)
        if (result->GetTestPartResult(i).skipped())
          res.message = result->GetTestPartResult(i).message();
      if (res.message.empty()) res.message = "skipped";
    } else if (result->Failed()) {
      if (rec.rate_limited) {
        // The target refused to be tested at this rate: not a verdict on the check itself.
        res.status = CheckStatus::Skipped;
        res.message = rec.rate_limit_note;
      } else {
        res.status = below_floor(rec.severity) ? CheckStatus::Warning : CheckStatus::Failed;
        res.message = failures_.empty() ? "failed" : failures_.front().first;
        for (const auto& [msg, where] : failures_) res.detail += where + ": " + msg + "\n";
      }
    }
    // Messages are the first line; the full text stays in detail.
    if (auto nl = res.message.find('\n');
        nl != std::string::npos && res.status != CheckStatus::Skipped)
      res.message = res.message.substr(0, nl);
    print(res);
    results.push_back(std::move(res));
  }

  std::vector<CheckResult> results;

 private:
  // Findings with a severity below suites.security.fail_on are reported, not gating.
  bool below_floor(const std::string& severity) const {
    return !severity.empty() &&
           severity_rank(severity) < severity_rank(c_.config().security.fail_on);
  }

  void print(const CheckResult& r) {
    const char* tag = r.status == CheckStatus::Passed    ? "PASS"
                      : r.status == CheckStatus::Failed  ? "FAIL"
                      : r.status == CheckStatus::Warning ? "WARN"
                                                         : "SKIP";
    std::cout << "  " << tag << "  " << r.classname << "." << r.name << " ("
              << static_cast<long>(r.seconds * 1000) << " ms)";
    if (r.status != CheckStatus::Passed) std::cout << "\n        " << redact(r.message);
    if (verbose_ && r.status == CheckStatus::Failed) std::cout << "\n" << redact(r.detail);
    std::cout << std::endl;
  }

  RunContext& c_;
  bool verbose_;
  std::vector<std::pair<std::string, std::string>> failures_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

std::pair<std::string, std::string> split_suite_name(const std::string& test_suite_name) {
  for (const auto& s : kSuiteNames) {
    std::string prefix = capitalized(s);
    if (test_suite_name.rfind(prefix, 0) == 0) return {s, test_suite_name.substr(prefix.size())};
  }
  return {"other", test_suite_name};
}

std::vector<std::string> list_checks() {
  std::vector<std::string> out;
  auto* unit = ::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit->total_test_suite_count(); ++i) {
    const auto* ts = unit->GetTestSuite(i);
    auto [suite, group] = split_suite_name(ts->name());
    for (int j = 0; j < ts->total_test_count(); ++j)
      out.push_back(suite + "." + group + "." + ts->GetTestInfo(j)->name());
  }
  return out;
}

namespace {
std::vector<CheckRegistrar>& registrars() {
  static std::vector<CheckRegistrar> r;
  return r;
}
}  // namespace

bool add_check_registrar(CheckRegistrar registrar) {
  registrars().push_back(registrar);
  return true;
}

std::vector<CheckResult> run_checks(RunContext& c, const RunOptions& options) {
  static bool registered = false;  // GoogleTest's registry lives as long as the process
  if (!registered) {
    for (auto r : registrars()) r(c.config());
    registered = true;
  }
  // Positive patterns: Suite+Group prefixes from suites and tags.
  std::string positive;
  for (const auto& s : options.suites) {
    if (options.tags.empty()) {
      positive += (positive.empty() ? "" : ":") + capitalized(s) + "*";
    } else {
      for (const auto& t : options.tags)
        positive += (positive.empty() ? "" : ":") + capitalized(s) + capitalized(t) + ".*";
    }
  }
  if (positive.empty()) positive = "-*";
  std::string filter = positive;
  if (!options.filter.empty()) filter = options.filter;

  std::string filter_arg = "--gtest_filter=" + filter;
  std::vector<std::string> args{"kgate", filter_arg, "--gtest_color=no"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  ::testing::InitGoogleTest(&argc, argv.data());
  ::testing::GTEST_FLAG(catch_exceptions) = true;
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  delete listeners.Release(listeners.default_result_printer());
  auto* collector = new ResultCollector(c, options.verbose);
  listeners.Append(collector);  // owned by GoogleTest from here
  set_ctx(&c);
  int rc = RUN_ALL_TESTS();  // per-check outcomes come from the listener
  (void)rc;
  set_ctx(nullptr);
  auto results = std::move(collector->results);
  delete listeners.Release(collector);
  return results;
}

}  // namespace kgate
