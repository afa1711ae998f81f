#pragma once
// kgate's configuration (kgate.yaml), as loaded and validated. Every key is documented in
// docs/config-reference.md; load_config() rejects unknown keys and names file:line:column.
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kgate {

// A configuration or usage error: exit code 2. what() starts with "file:line:column: ".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Millis = std::chrono::milliseconds;

struct TargetConfig {
  std::string backend;   // base URL of the API service (required unless embedded)
  std::string frontend;  // base URL of the web front (optional)
  std::string ingress;   // base URL of the ingress (optional; routes /api and /)
  Millis connect_timeout{3000};
  Millis request_timeout{10000};
  Millis reachable_within{8000};  // how long to wait for the target before exit 3
  bool insecure = false;          // skip TLS verification
  std::string ca_file;
  // A request budget the target enforces per window (slowapi's "100/hour"): kgate paces its
  // checks so the whole run stays under it. 0: none.
  int max_requests = 0;
  Millis max_requests_window{3600000};
};

// How the app under test spells the contract. Paths use {user_id} and {id} placeholders.
struct ProfileConfig {
  std::string health_path = "/health";
  std::string frontend_health_path = "/api/health";
  std::string frontend_page_path = "/";
  std::vector<std::string> health_ok_values{"healthy", "ok"};
  std::string health_status_field = "status";
  std::string tasks_path = "/api/{user_id}/tasks";
  std::string task_path = "/api/{user_id}/tasks/{id}";
  std::string complete_path = "/api/{user_id}/tasks/{id}/complete";
  std::string complete_method = "PATCH";
  std::string update_method = "PUT";
  std::string chat_path = "/api/{user_id}/chat";
  std::string task_id_format = "any";  // integer | uuid | any
  std::vector<int> create_status{200, 201};
  std::vector<int> delete_status{200, 204};
  std::vector<int> refused_status{403, 404};  // another user's resource
  std::string complete_returns = "task";      // task | partial ({id, completed})
  std::string list_field;                     // empty: list is a bare array; else e.g. "items"
  // How a task says it is done: a boolean (completed: true) or a status (status: completed).
  std::string completion = "boolean";  // boolean | status
  std::string completed_field = "completed";
  std::string status_field = "status";
  std::string status_done = "completed";
  std::string status_open = "pending";
  // Does the complete endpoint toggle (the contract) or set? Default: toggle for boolean,
  // set for status.
  std::optional<bool> complete_toggles;
  int title_max = 200;  // the app's limits (the contract's by default)
  int description_max = 1000;
  bool chat_conversation = true;  // chat answers carry a conversation_id to continue with
  std::string openapi_path = "/openapi.json";  // the app's OpenAPI document ("" if none)

  bool toggles() const { return complete_toggles.value_or(completion == "boolean"); }
};

struct MintConfig {
  std::string secret_env = "BETTER_AUTH_SECRET";
  std::string user_claim = "sub";
  std::string user_id_format = "string";  // string | uuid | int
  // Apps whose tasks reference a users table need the user to exist: sign each identity up
  // first (through auth.login's register/login, or Better Auth), then mint for its user id.
  std::string sign_up = "none";  // none | login | better-auth
  Millis ttl{15 * 60 * 1000};
  std::string issuer;
  std::string audience;
};

struct LoginConfig {             // the app's own register/login endpoints
  std::string base = "backend";  // backend | frontend | ingress
  std::string register_path;     // optional
  std::string login_path = "/api/auth/login";
  std::string format = "json";  // json | form (OAuth2 password flow: username, password)
  std::string register_body = R"({"email":"{email}","password":"{password}","name":"{name}"})";
  std::string login_body = R"({"email":"{email}","password":"{password}"})";
  std::string token_json_path = "access_token";  // dotted path in the login answer
  std::string user_id_json_path;                 // empty: read the user id from the token
};

struct BetterAuthConfig {  // Better Auth on the frontend: cookie session, then its JWT
  std::string base = "frontend";
  std::string sign_up_path = "/api/auth/sign-up/email";
  std::string sign_in_path = "/api/auth/sign-in/email";
  std::string token_path = "/api/auth/token";
  std::string token_json_path = "token";
};

struct FixedIdentity {
  std::string user_id;
  std::string token;
};

struct AuthConfig {
  std::string mode = "mint";  // mint | login | better-auth | tokens
  MintConfig mint;
  LoginConfig login;
  BetterAuthConfig better_auth;
  std::vector<FixedIdentity> tokens;
  std::string password_env;  // login modes: env var with the test password (else random)
  // The e-mail of the identities kgate signs up: {label} and {random} are filled in. A domain
  // real validators accept (example.com), not a reserved one (.test).
  std::string email = "kgate-{label}-{random}@example.com";
  Millis rate_limit_max_wait{10000};
  int rate_limit_retries = 3;
};

struct SmokeConfig {
  Millis latency_budget{1000};
  bool chat = true;
  std::string chat_message = "Add a task to {title}";
};

struct SecurityConfig {
  std::string fail_on = "medium";  // lowest severity whose findings fail the gate
  // Operations of the app's OpenAPI document that may answer without a token (globs on paths).
  std::vector<std::string> public_paths{"/health",   "/ready",      "/docs*",      "/redoc*",
                                        "/openapi*", "/api/auth/*", "/api/health", "/"};
  bool chat = true;  // sweep the chat endpoint too
  // The route sweep sends writes (POST/PUT/PATCH/DELETE) only to routes whose parameters point
  // at kgate's own user and task, unless this allows writes to any documented route.
  bool probe_unsafe_routes = false;
  double max_rps = 20;  // pace: the suite is not a load test (0: no cap)
  std::size_t large_body_bytes = std::size_t{5} << 20;  // the oversized-body probe
};

// Severities in rising order; severity_rank("") is 0 (a check without one always gates).
inline const std::vector<std::string>& severities() {
  static const std::vector<std::string> s{"info", "low", "medium", "high", "critical"};
  return s;
}
int severity_rank(const std::string& severity);

// Distributed load (suites.load.workers > 0): how the kgate worker pods run in the cluster of
// the `kubernetes:` section. docs/distributed-load.md.
struct DistributedLoadConfig {
  std::string image = "kgate/kgate:" KGATE_VERSION;  // an image whose entrypoint is kgate
  std::string image_pull_policy;                     // "": the cluster's default
  std::map<std::string, std::string> requests{{"cpu", "250m"}, {"memory", "64Mi"}};
  std::map<std::string, std::string> limits{{"memory", "512Mi"}};  // no CPU limit: throttling
                                                                   // would distort latencies
  Millis start_timeout{120000};                                    // every worker Ready within this
  Millis start_lead{1000};     // the start instant, after the signal
  bool allow_partial = false;  // a run that lost a worker may still pass its gate
};

// The load suite: one request driven by an executor, gated by thresholds.
struct LoadConfig {
  std::string base = "backend";  // backend | frontend | ingress
  std::string path = "/health";
  std::string method = "GET";
  std::string body;
  bool authenticated = false;        // send a test identity's bearer token
  std::string scenario = "request";  // request | todo-mix
  int identities = 5;                // todo-mix: test identities the load is spread over
  unsigned mix_list = 70, mix_create = 10, mix_toggle = 10, mix_delete = 10;
  std::string executor = "constant-arrival-rate";
  double rate = 50;    // arrival-rate executors: iterations/s (start rate for ramping)
  int vus = 10;        // VU executors (start VUs for ramping)
  std::string stages;  // ramping executors: "30s:100,1m:500"
  Millis duration{30000};
  Millis think{0};
  int connections = 64;
  int threads = 0;
  Millis max_queue_wait{1000};
  Millis total_timeout{0};  // bound on one iteration, connect included; 0: off
  std::vector<std::string> thresholds{"p95 < 500ms", "error_rate < 1%", "dropped == 0"};
  // Distributed: 0 runs the load here; N runs it from N worker pods (an Indexed Job), each a
  // share of this same schedule, merged exactly into one result.
  int workers = 0;
  DistributedLoadConfig distributed;
};

// The resilience suite (suites.resilience): live traffic during each disruption, and the
// SLOs/budgets each check gates on.
struct ResilienceConfig {
  double rate = 20;               // live traffic: todo-mix iterations per second (open model)
  int identities = 3;             // test identities the traffic is spread over
  double frontend_rate = 2;       // GET of the frontend page per second (0: none)
  Millis ready_budget{60000};     // checks 1, 2: the replacement is Ready within this
  double availability = 99.0;     // checks 1, 2: % of requests answered without error
  Millis outage_budget{60000};    // check 3: service back within this
  Millis restart_budget{180000};  // check 5: the rollout completes within this
  int restart_max_failed = 0;     // check 5: failed requests allowed during the rollout
  int scale_to = 3;               // manual scaling: replicas to scale the backend to
  Millis scale_budget{60000};     // manual scaling: all Ready within this
  Millis baseline{5000};          // the window before each disruption compared against
  Millis recovery{3000};          // sustained success that ends a recovery
};

// The HPA suite (suites.hpa): an open-model load ramp through the app's URL while the backend's
// HorizontalPodAutoscaler reacts; budgets of 0 are computed from the HPA's `behavior` and the
// controller's settings below (docs/hpa.md says how, and each run prints why).
struct HpaControllerConfig {
  // kube-controller-manager's flags, which the API does not expose: the documented defaults.
  Millis sync_period{15000};               // --horizontal-pod-autoscaler-sync-period
  double tolerance = 0.1;                  // --horizontal-pod-autoscaler-tolerance
  Millis downscale_stabilization{300000};  // --horizontal-pod-autoscaler-downscale-...
  Millis cpu_initialization{300000};       // --horizontal-pod-autoscaler-cpu-initialization-...
  Millis initial_readiness_delay{30000};   // --horizontal-pod-autoscaler-initial-readiness-...
};
struct HpaConfig {
  std::string scenario = "todo-mix";  // todo-mix | request (GET target.backend + path)
  std::string path = "/health";       // scenario request
  int identities = 3;                 // todo-mix: test identities the load is spread over
  // An explicit ramp ("30s:100,2m:100"); empty: derived: ramp towards max_rate over `ramp`
  // until the HPA wants more than minReplicas, hold that rate for `hold`, stop.
  std::string stages;
  double max_rate = 500;
  Millis ramp{60000};
  Millis hold{30000};
  int connections = 256;
  int target_replicas = 0;         // ScaleUp: at least this many Ready (0: minReplicas + 1)
  Millis scale_up_budget{0};       // 0: computed
  Millis pod_ready_budget{60000};  // a new pod's created -> Ready allowance
  Millis scale_down_budget{0};     // 0: computed
  double max_error_rate = 1.0;     // % of requests that may fail while pods are added
  Millis p95{500};                 // p95 latency once scaled
  bool scale_down = true;          // false: ScaleDown skips, saying so
  Millis preflight_wait{30000};    // metrics and the HPA's conditions become available
  HpaControllerConfig controller;
};

// Where the app runs in Kubernetes, for the suites that look at or change the cluster
// (resilience, hpa, audit, distributed load). Unset (no `kubernetes:` section): those checks
// skip with the reason (Need kNeedsCluster).
struct KubernetesConfig {
  bool configured = false;  // the section is present
  std::string kubeconfig;   // empty: $KUBECONFIG, ~/.kube/config, then in-cluster
  std::string context;      // empty: current-context
  std::string namespace_;   // empty: the context's namespace, else "default"
  std::string release;      // Helm release: objects labelled app.kubernetes.io/instance=<release>
  std::string backend_deployment;  // explicit names, when there is no release label
  std::string frontend_deployment;
  // Disruptive checks run only in a namespace carrying this label with the value "allowed".
  std::string disruption_label = "kgate.io/disruption";
  Millis request_timeout{10000};  // bound on each API call
};

// Release criteria: `criteria:` in kgate.yaml, or a file of its own (--criteria FILE), as written.
// kgate/criteria.hpp checks them against the registry and decides them (docs/criteria.md).
struct CriterionRef {
  std::string text;  // a check id or glob, or a figure threshold ("load.p95 < 300ms")
  int line = 0;      // where the text starts in its file (1-based), for file:line:column errors
  int column = 0;
};
struct CriterionSpec {
  std::string id;
  std::string text;      // the sentence as the release manager wrote it
  std::string source;    // where the sentence comes from ("seed 001 §5.2"); optional
  bool required = true;  // level: required | advisory
  std::vector<CriterionRef> checks;
  std::vector<CriterionRef> figures;
  std::string manual;  // what a person must review: kgate cannot verify it
  std::string awaits;  // the suite that will verify it, once it exists
  int line = 0, column = 0;
};
struct CriteriaConfig {
  std::string file;  // the file they were read from; "" when there are none
  std::vector<CriterionSpec> items;
};

// The audit suite (suites/audit): the audit's rules over the live objects of kubernetes:'s
// namespace (or release). Suppressions as `kgate audit --suppressions` reads them, inline.
struct AuditSuppressionConfig {
  std::string rule;    // a rule id (checked against the audit's rules)
  std::string object;  // "Kind/name", "ns/Kind/name", '*' globs; empty: every object
  std::string reason;  // required
  std::string where;   // "file:line" of the entry, for the reports
};
struct AuditSuiteConfig {
  std::string fail_on = "medium";  // lowest rule severity whose findings fail the gate
  // The app's objects: empty means app.kubernetes.io/instance=<kubernetes.release>, or the whole
  // namespace when only deployments are named.
  std::string selector;
  std::vector<AuditSuppressionConfig> suppressions;
  std::vector<std::string> image_scans;  // Trivy or Grype JSON reports
  std::string image_severity = "critical";
};

struct ReportsConfig {
  std::string junit = "kgate-report/junit.xml";
  std::string html = "kgate-report/report.html";
  std::string json = "kgate-report/results.json";
};

struct Config {
  std::string source;  // file it came from ("" for defaults)
  TargetConfig target;
  ProfileConfig profile;
  AuthConfig auth;
  SmokeConfig smoke;
  SecurityConfig security;
  LoadConfig load;
  KubernetesConfig kubernetes;
  CriteriaConfig criteria;
  AuditSuiteConfig audit;  // suites.audit
  ResilienceConfig resilience;
  HpaConfig hpa;
  ReportsConfig reports;
  // Default selection for `kgate run`: the suites that need no cluster and no load budget.
  std::vector<std::string> suites{"smoke", "security"};
  bool fail_on_skip = false;  // a skipped or inconclusive check fails the gate
  // `kgate run --dry-run`: disruptive checks say what they would delete, evict, restart or
  // scale, and change nothing (no live traffic either); every other check runs as usual.
  bool dry_run = false;
  Millis check_timeout{10 * 60 * 1000};                // run.check_timeout
  std::map<std::string, Millis> suite_check_timeouts;  // suites.<name>.check_timeout
};

// Loads and validates. Throws ConfigError naming file:line:column and the key.
Config load_config(const std::string& path);
Config parse_config(const std::string& yaml_text, const std::string& source_name);
// The commented starter file written by `kgate init`.
std::string starter_config();
// The closest known key, for "did you mean" hints ("" when nothing is close).
std::string suggest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace kgate
