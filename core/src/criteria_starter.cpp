// `kgate init --criteria seeds`: the release checklists of the seeds (the plans this project
// grew from) as a criteria file, mapped to the checks that exist today. What kgate cannot check
// is listed too, advisory and never verified, with what a person must do instead or the suite
// that will check it. When a suite lands, map its items here (tests/core/criteria_test.cpp
// checks that the file still validates against the registry).
#include <string>
#include <vector>

#include "kgate/criteria.hpp"
#include "kgate/registry.hpp"

namespace kgate {
namespace {

struct Item {
  const char* id;
  const char* text;
  const char* source;
  std::vector<const char*> checks;
  std::vector<const char*> figures;
  bool required = true;
  const char* manual = nullptr;
  const char* awaits = nullptr;
  const char* awaited_suite = nullptr;  // the suite `awaits` names
  const char* note = nullptr;           // a comment above the item
};

std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string list(const std::vector<const char*>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += std::string(i ? ", " : "") + yaml_quoted(items[i]);
  return out + "]";
}

std::string seeds() {
  const char* kSmoke = "seed 001 §5.1 Smoke Tests";
  const char* kKube = "seed 001 §5.2 Kubernetes-Specific Tests";
  const char* kSecurity = "seed 001 §5.3 Security Tests";
  const char* kPlan = "seed 003 Task 8: Testing & Validation";
  const std::vector<Item> items{
      {"app-accessible",
       "Access http://todo.local",
       kSmoke,
       {"smoke.Health.FrontendPage", "smoke.Health.FrontendHealth"},
       {},
       true,
       nullptr,
       nullptr,
       nullptr,
       "needs target.frontend; with target.ingress set, add smoke.Routing.IngressRoutesApiAndPage"},
      {"login",
       "Login with Better Auth",
       kSmoke,
       {},
       {},
       false,
       "kgate signs in through Better Auth only with auth.mode: better-auth (with mint it signs "
       "its own tokens); with better-auth, replace this with checks: [smoke.Tasks.FullTaskFlow] "
       "and level: required",
       nullptr,
       nullptr,
       nullptr},
      {"chat-open",
       "Open chatbot interface",
       kSmoke,
       {},
       {},
       false,
       "kgate talks to the chat API, not to the page: open the chat in a browser once",
       nullptr,
       nullptr,
       nullptr},
      {"chat-send", "Send message to chatbot", kSmoke, {"smoke.Chat.AddTaskByNaturalLanguage"}},
      {"chat-add-task",
       "Add task via natural language",
       kSmoke,
       {"smoke.Chat.AddTaskByNaturalLanguage"}},
      {"tasks-view", "View tasks", kSmoke, {"smoke.Tasks.FullTaskFlow"}},
      {"tasks-complete", "Complete task", kSmoke, {"smoke.Tasks.FullTaskFlow"}},
      {"tasks-delete", "Delete task", kSmoke, {"smoke.Tasks.FullTaskFlow"}},
      {"kill-frontend-pod",
       "Kill frontend pod → New pod starts, app still works",
       kKube,
       {"resilience.PodDelete.Frontend"}},
      {"kill-backend-pod",
       "Kill backend pod → New pod starts, app still works",
       kKube,
       {"resilience.PodDelete.Backend"}},
      {"state-persists",
       "Restart Minikube → App state persists (external DB)",
       kKube,
       {"resilience.State.Persists"}},
      {"hpa-scales-up",
       "Generate load → HPA scales up pods",
       kKube,
       {"hpa.Preflight.Ready", "hpa.Scaling.ScaleUp", "hpa.Scaling.NoFailures"},
       {},
       false,
       nullptr,
       nullptr,
       nullptr,
       "advisory: the hpa suite drives heavy load and runs only when named (--suites hpa); make "
       "it required where the pipeline runs it. Figures: hpa.Scaling.ScaleUp.time_to_target"},
      {"hpa-scales-down",
       "Remove load → HPA scales down pods",
       kKube,
       {"hpa.Scaling.ScaleDown"},
       {},
       false,
       nullptr,
       nullptr,
       nullptr,
       "advisory, as above; hpa.Scaling.ScaleDown.time_to_scale_down is its figure"},
      {"non-root",
       "Containers run as non-root (check with `kubectl exec`)",
       kSecurity,
       {"audit.PodSecurity.run-as-non-root"}},
      {"secrets-not-in-pod-specs",
       "Secrets not visible in pod specs",
       kSecurity,
       {"audit.Secrets.secret-in-env"}},
      {"images-scanned",
       "Images scanned with Docker Scout (no critical vulnerabilities)",
       kSecurity,
       {},
       {},
       false,
       "kgate does not scan images: attach the scanner's report (`kgate audit --image-scan` "
       "gates on Trivy or Grype JSON)",
       nullptr,
       nullptr,
       nullptr},
      {"deployment-works",
       "Test application deployment",
       kPlan,
       {"smoke.Health.BackendHealth", "smoke.Health.HealthReflectsService"}},
      {"scaling-operations",
       "Test scaling operations",
       kPlan,
       {"resilience.Scaling.Manual"},
       {},
       true,
       nullptr,
       nullptr,
       nullptr,
       "manual scaling; autoscaling is hpa-scales-up/-down (the hpa suite)"},
      {"health-checks",
       "Test health checks",
       kPlan,
       {"smoke.Health.*"},
       {},
       true,
       nullptr,
       nullptr,
       nullptr,
       "needs target.frontend (the frontend's health and page)"},
      {"security-configuration",
       "Validate security configurations",
       kPlan,
       {"security.Auth.*", "security.Isolation.*", "security.Validation.*", "security.Leaks.*",
        "security.Headers.NoSniff", "security.Headers.FramingIsRestricted",
        "security.Headers.ContentSecurityPolicy", "security.Headers.ReferrerPolicy",
        "security.Cors.*", "security.Routes.*"},
       {},
       true,
       nullptr,
       nullptr,
       nullptr,
       "the HTTP security suite; the TLS checks are the next criterion (they apply to https "
       "targets only)"},
      {"tls",
       "Ingress with TLS termination",
       "seed 003 Step 2: Kubernetes Manifests",
       {"security.Tls.*", "security.Headers.StrictTransportSecurity"},
       {},
       false,
       nullptr,
       nullptr,
       nullptr,
       "not verified on plain http targets: make it required once the target is https"},
      {"backup-recovery",
       "Test backup and recovery",
       kPlan,
       {},
       {},
       false,
       "kgate does not back up or restore the database: restore a backup into a scratch "
       "namespace and run kgate against it",
       nullptr,
       nullptr,
       nullptr},
      {"performance-under-load",
       "Verify performance under load",
       "seed 001 Testing Strategy: Load Testing (Optional)",
       {},
       {"load.p95 < 500ms", "load.error_rate < 1%"},
       false,
       nullptr,
       nullptr,
       nullptr,
       "needs the load suite selected (--suites smoke,security,load); advisory, as the seed "
       "calls it optional"},
  };

  std::string out =
      "# Release criteria (docs/criteria.md), started from the seeds' checklists: seed 001 §5\n"
      "# (Testing & Validation) item by item, then seed 003's testing task. Each criterion is the\n"
      "# sentence as written, what proves it (check ids or globs as `kgate list` prints them;\n"
      "# figure thresholds as `kgate list --figures` names them) and whether it gates the\n"
      "# release (level: required, the default) or is only reported (level: advisory). What\n"
      "# kgate cannot check is listed too, advisory and never verified: `manual` says what a\n"
      "# person reviews instead, `awaits` the suite that will check it.\n"
      "#\n"
      "#   kgate run --config kgate.yaml --criteria criteria.yaml \\\n"
      "#       --suites smoke,security,audit,resilience\n"
      "#\n"
      "# audit and resilience need the kubernetes: section; resilience deletes pods, so it runs\n"
      "# only in a namespace labelled kgate.io/disruption=allowed (docs/resilience.md). A suite\n"
      "# left out leaves its criteria NOT VERIFIED, which fails the gate for required ones.\n"
      "#\n"
      "# Seed 003's last item, \"Validate against acceptance criteria\", is this file.\n"
      "criteria:\n";
  const char* section = "";
  for (const auto& it : items) {
    if (std::string(section) != it.source) {
      section = it.source;
      out += std::string("\n  # ") + section + "\n";
    }
    if (it.note) out += std::string("  # ") + it.note + "\n";
    if (it.awaited_suite && find_suite(it.awaited_suite))
      out += std::string("  # the ") + it.awaited_suite +
             " suite exists now: map this item to its checks (kgate list --suites " +
             it.awaited_suite + ")\n";
    out += std::string("  - id: ") + it.id + "\n";
    out += "    text: " + yaml_quoted(it.text) + "\n";
    out += "    source: " + yaml_quoted(it.source) + "\n";
    if (!it.checks.empty()) out += "    checks: " + list(it.checks) + "\n";
    if (!it.figures.empty()) out += "    figures: " + list(it.figures) + "\n";
    if (it.manual) out += "    manual: " + yaml_quoted(it.manual) + "\n";
    if (it.awaits) out += "    awaits: " + yaml_quoted(it.awaits) + "\n";
    out += std::string("    level: ") + (it.required ? "required" : "advisory") + "\n";
  }
  return out;
}

}  // namespace

std::vector<std::string> starter_criteria_names() {
  return {"seeds"};
}

std::string starter_criteria(const std::string& name) {
  if (name == "seeds") return seeds();
  throw ConfigError("--criteria: no starter named '" + name + "' (starters: seeds)");
}

}  // namespace kgate
