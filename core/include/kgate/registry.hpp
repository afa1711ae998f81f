#pragma once
// The one list of suites and checks, with their metadata as data. `kgate list`, selection
// (--suites, --tags, --filter, --severity), config validation and the reports all read it; no
// suite name is written out anywhere else.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kgate/config.hpp"

namespace kgate {

class Check;
class CheckContext;
class SuiteFixture;

enum class Severity { None, Info, Low, Medium, High, Critical };
const char* to_string(Severity s);  // "" for None
// "high" -> High; nullopt when not a severity name.
std::optional<Severity> parse_severity(std::string_view text);

// What a check needs from the run. The runner skips a check whose needs the run cannot meet,
// with the reason, before running it; `kgate list` shows them.
enum Need : unsigned {
  kNeedsIdentity = 1u << 0,       // a test identity (alice)
  kNeedsTwoIdentities = 1u << 1,  // two identities (alice and bob)
  kNeedsSecret = 1u << 2,         // the app's HS256 signing secret
  kNeedsFrontend = 1u << 3,       // target.frontend
  kNeedsIngress = 1u << 4,        // target.ingress
  kNeedsHttps = 1u << 5,          // at least one https target
  kNeedsCluster = 1u << 6,        // Kubernetes access (kubernetes:)
  kDisruptive = 1u << 7,          // changes the deployment: only when its suite is chosen by name
};
// "identity, secret": the needs as words, for listings and skip reasons.
std::string needs_text(unsigned needs);

// A figure a check records with measure(name, value, unit), declared so that release criteria
// can name it before anything runs ("load.Run.Scenario.p95 < 300ms"; docs/criteria.md).
struct FigureInfo {
  std::string name;  // as passed to measure(): "p95"
  std::string unit;  // as passed to measure(): "ms", "s", "%", "req/s", "requests", ""
};

// What a check declares about itself (designated initializers follow this order).
struct CheckInfo {
  std::string title;  // a sentence: what the check asserts
  Severity severity = Severity::None;
  std::string reference;                // "OWASP API2:2023", "PSS restricted", "CIS 5.2.6", ...
  std::vector<std::string> tags;        // extra tags; the group's name (lowercase) is always one
  unsigned needs = 0;                   // Need flags
  std::vector<std::string> depends_on;  // ids of checks whose results this one reads
  std::vector<FigureInfo> figures;      // scalars it records that criteria may name
};

// A group of checks: the fixture class of KGATE_CHECK declares its suite and group.
struct GroupInfo {
  const char* suite;
  const char* name;
};

using CheckFactory = std::function<std::unique_ptr<Check>(CheckContext&)>;

struct CheckDef {
  std::string id;  // suite.Group.Name
  std::string suite, group, name;
  CheckInfo info;
  std::vector<std::string> tags;  // the group's tag first, then info.tags
  std::string file;
  int line = 0;
  CheckFactory make;
};

// Everything a suite declares: who it is, what it needs before its checks run (fixtures), and
// how its config shapes its checks.
struct SuiteDef {
  std::string name;   // "smoke": the word for --suites and run.suites
  std::string title;  // "Smoke"
  std::string description;
  int order = 0;  // position in listings and runs
  // Fixtures started before the suite's first selected check, stopped after its last.
  std::function<std::vector<std::unique_ptr<SuiteFixture>>(const Config&)> fixtures;
  // Checks that exist only for a given configuration (one per load threshold, say).
  std::function<void(const Config&)> dynamic_checks;
  // The default timeout of the suite's checks when the config sets none (else run.check_timeout).
  std::function<Millis(const Config&)> default_check_timeout;
  // Findings of checks below this severity are warnings (a severity name; "" = all gate).
  std::function<std::string(const Config&)> fail_on;
  // False for a suite that reads only the Kubernetes API (audit): a run of such suites alone
  // needs no HTTP target, so kgate neither starts its embedded app nor waits for one.
  bool needs_target = true;
};

// Registers a suite (called by KGATE_SUITE at static initialisation).
bool register_suite(SuiteDef def);
bool add_check(CheckDef def);  // used by register_check (check.hpp) and dynamic checks

const std::vector<SuiteDef>& suites();
const SuiteDef* find_suite(const std::string& name);
std::vector<std::string> suite_names();
// Every registered check, in suite order, then in registration order within a suite.
std::vector<const CheckDef*> checks();
const CheckDef* find_check(const std::string& id);
// Registers the config-dependent checks of every suite, once per process.
void register_dynamic_checks(const Config& config);
// Programming errors in the registry (a check of an unknown suite, a duplicate id, a dependency
// that does not exist): "" when sound.
std::string registry_problems();

// Which checks a run takes. Every criterion narrows: a check is selected when its suite is in
// `suites`, it has one of `tags` (when any), its id matches one of `filters` (globs over
// "suite.Group.Name", when any) and its severity is at least `min_severity` (when set).
struct Selection {
  std::vector<std::string> suites;
  std::vector<std::string> tags;
  std::vector<std::string> filters;
  std::optional<Severity> min_severity;
  bool suites_named = false;  // --suites given: disruptive checks of those suites may run
  // The selection in words, for the console and the reports.
  std::string describe() const;
};
// The selected checks, plus the checks they depend on (pulled in, in registration order).
std::vector<const CheckDef*> select(const Selection& selection);
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace kgate

// Declares a suite: KGATE_SUITE(smoke, {.name = "smoke", .title = "Smoke", ...});
#define KGATE_SUITE(id, ...)                     \
  [[maybe_unused]] const bool kgate_suite_##id = \
      ::kgate::register_suite(::kgate::SuiteDef __VA_ARGS__)
