#include "kgate/config.hpp"

namespace kgate {

std::string starter_config() {
  return R"(# kgate.yaml: what kgate tests and how it decides. Every key is optional;
# the values shown are the defaults. Reference: docs/config-reference.md
# ${VAR} and ${VAR:-default} take values from the environment.
version: 1

target:
  backend: ${KGATE_BACKEND_URL:-http://localhost:7860}   # the API service
  # frontend: http://localhost:3000                     # the web front (health, page, /api routing)
  # ingress: http://todo.local                          # the ingress (routes /api and /)
  connect_timeout: 3s
  request_timeout: 10s
  reachable_within: 8s      # no HTTP answer by then: exit 3
  insecure: false           # true skips TLS certificate verification
  # ca_file: /etc/ssl/my-ca.pem

# How your app spells the contract (shared todo API). Change these when it drifts.
profile:
  health_path: /health
  frontend_health_path: /api/health
  health_ok_values: [healthy, ok]
  tasks_path: /api/{user_id}/tasks          # or /api/tasks
  task_path: /api/{user_id}/tasks/{id}
  complete_path: /api/{user_id}/tasks/{id}/complete
  complete_method: PATCH
  chat_path: /api/{user_id}/chat
  task_id_format: any       # integer | uuid | any
  create_status: [200, 201]
  delete_status: [200, 204]
  complete_returns: task    # task | partial ({id, completed})

auth:
  mode: mint                # mint | login | better-auth | tokens
  mint:
    secret_env: BETTER_AUTH_SECRET   # the env var holding the HS256 secret (never the secret itself)
    user_claim: sub
    ttl: 15m
  # login:         { base: backend, register_path: /api/auth/register, login_path: /api/auth/login, token_json_path: access_token }
  # better_auth:   { base: frontend }
  # tokens:        [ { user_id: alice, token: "${ALICE_TOKEN}" }, { user_id: bob, token: "${BOB_TOKEN}" } ]

suites:
  smoke:
    latency_budget: 1s      # every smoke call must answer within this
    chat: true

  security:
    # Lowest severity that fails the gate: info | low | medium | high | critical.
    fail_on: medium
    chat: true            # sweep POST /api/{user_id}/chat too
    max_rps: 20           # gentle on a live target: the suite is not a load test
    large_body_mib: 5     # the oversized-body probe

run:
  suites: [smoke, security]
  # A skipped check (no secret, rate limited, no frontend URL) fails the gate when true.
  fail_on_skip: false

reports:
  junit: kgate-report/junit.xml
  html: kgate-report/report.html
  json: kgate-report/results.json
)";
}

}  // namespace kgate
