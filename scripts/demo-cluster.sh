#!/usr/bin/env bash
# One command for a newcomer: the Kubernetes suites on a real local control plane.
#
#   scripts/demo-cluster.sh                  # reports in kgate-report/ and kgate-report/hpa/
#
# It builds what is missing, starts the local cluster (fixtures/local-cluster: etcd,
# kube-apiserver, kube-controller-manager and kgate's node agent, pods as local processes, all in
# a network namespace of its own), starts a PostgreSQL inside that namespace for the app's data,
# installs the project's Helm chart with the real helm (images mapped to this build's binaries),
# opens the namespace to disruption (kgate.io/disruption=allowed) and runs:
#   1. smoke, security, audit and resilience, the chart's HPA off (the resilience checks scale
#      the backend themselves) -> kgate-report/
#   2. the backend's HPA on (min 1, max 4, a 20m CPU request), `--suites hpa` -> kgate-report/hpa/
# Everything it started is stopped at the end, on failure and on Ctrl-C. Needs root (network
# namespaces). Exit status: kgate's (the first non-zero), or 3 when the set-up failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work="${KGATE_DEMO_DIR:-/tmp/kgate-demo}"
ns=demo
report="${KGATE_REPORT_DIR:-$root/kgate-report}"
log() { echo "demo-cluster: $*" >&2; }

[[ $(id -u) == 0 ]] || { log "needs root (the local cluster makes a network namespace)"; exit 3; }
scripts/setup.sh
scripts/install-helm.sh
KGATE_TARGETS="kgate todo-app kgate-node-agent kgate-podnet" scripts/build.sh
fixtures/control-plane/build.sh >/dev/null
helm="$HOME/.cache/kgate/bin/helm"
kgate="$root/build/core/kgate"

rm -rf "$work"
mkdir -p "$work"
cluster_pid="" pg_pid=""
stop_all() {
  trap '' INT TERM
  [[ -n "$pg_pid" ]] && kill -TERM "$pg_pid" 2>/dev/null && wait "$pg_pid" 2>/dev/null || true
  if [[ -n "$cluster_pid" ]]; then
    log "stopping the local cluster"
    kill -TERM "$cluster_pid" 2>/dev/null || true
    wait "$cluster_pid" 2>/dev/null || true
  fi
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- the cluster ----------------------------------------------------------------------------
log "starting the local cluster (log: $work/cluster.log)"
fixtures/local-cluster/local-cluster.sh up --dir "$work/cluster" \
  --node-agent build/fixtures/node-agent/kgate-node-agent \
  --image "todo-app=$root/build/app/todo-app" --image "kgate=$root/build/core/kgate" \
  --parent-pid $$ > "$work/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 900); do
  grep -qx ready "$work/cluster.log" 2>/dev/null && break
  kill -0 "$cluster_pid" 2>/dev/null || { tail -20 "$work/cluster.log" >&2; exit 3; }
  sleep 0.2
done
grep -qx ready "$work/cluster.log" || { log "the cluster did not start in 180 s"; exit 3; }
# Everything that talks to the cluster or to the app runs in the cluster's network namespace.
in_cluster() { fixtures/local-cluster/local-cluster.sh exec --dir "$work/cluster" -- "$@"; }

# --- PostgreSQL for the app's data (Debian's server, in the cluster's namespace) ---------------
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
pg_port=55432
mkdir -p "$work/pg"
chown postgres: "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust > "$work/pg.log" 2>&1
in_cluster runuser -u postgres -- "$pg_bin/postgres" -D "$work/pg/data" -p "$pg_port" \
  -c listen_addresses=127.0.0.1 -k "$work/pg" >> "$work/pg.log" 2>&1 &
pg_pid=$!
for _ in $(seq 1 100); do
  in_cluster "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 0.2
done
in_cluster "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE todo" >/dev/null

# --- the chart ------------------------------------------------------------------------------
secret="$(openssl rand -hex 24)"  # the app's JWT secret: never printed
export BETTER_AUTH_SECRET="$secret"
export HELM_CACHE_HOME="$work/helm/cache" HELM_CONFIG_HOME="$work/helm/config" HELM_DATA_HOME="$work/helm/data"
install() {  # extra --set values...
  local args=(upgrade --install todo chart/todo --namespace "$ns" --create-namespace --wait
    --timeout 240s
    --set postgresql.enabled=false
    --set "secrets.databaseUrl=postgresql://postgres@127.0.0.1:$pg_port/todo"
    --set frontend.autoscaling.enabled=false --set frontend.replicaCount=2
    --set backend.replicaCount=2 --set backend.grace=2s --set frontend.grace=2s
    --set backend.probes.readiness.periodSeconds=1 --set frontend.probes.readiness.periodSeconds=1
    --set backend.terminationGracePeriodSeconds=10 --set frontend.terminationGracePeriodSeconds=10)
  for v in "$@"; do args+=(--set "$v"); done
  # The secret reaches helm through a values file readable by root only, not the command line.
  (umask 077 && printf 'secrets:\n  betterAuthSecret: "%s"\n' "$secret" > "$work/secret-values.yaml")
  in_cluster "$helm" "${args[@]}" -f "$work/secret-values.yaml" > "$work/helm.log" 2>&1 ||
    { tail -30 "$work/helm.log" >&2; exit 3; }
}
log "installing the chart (release todo, namespace $ns)"
install backend.autoscaling.enabled=false
in_cluster kubectl label namespace "$ns" kgate.io/disruption=allowed --overwrite >/dev/null

url_of() {  # Service -> http://clusterIP:port
  in_cluster kubectl -n "$ns" get service "$1" \
    -o jsonpath='http://{.spec.clusterIP}:{.spec.ports[0].port}'
}
config() {  # report dir
  cat <<YAML
target:
  backend: $(url_of todo-backend)
  frontend: $(url_of todo-frontend)
kubernetes:
  namespace: $ns
  release: todo
reports:
  junit: $1/junit.xml
  html: $1/report.html
  json: $1/results.json
YAML
}

status=0
rm -rf "$report"
mkdir -p "$report"
config "$report" > "$work/kgate.yaml"
log "kgate run --suites smoke,security,audit,resilience (a few minutes)"
in_cluster "$kgate" run --config "$work/kgate.yaml" --suites smoke,security,audit,resilience ||
  status=$?

log "enabling the backend's HPA; kgate run --suites hpa"
# A small CPU request: the local machine's modest load is then a large utilization.
install backend.autoscaling.enabled=true backend.autoscaling.minReplicas=1 \
  backend.autoscaling.maxReplicas=4 backend.resources.requests.cpu=20m
mkdir -p "$report/hpa"
config "$report/hpa" > "$work/kgate-hpa.yaml"
cat >> "$work/kgate-hpa.yaml" <<'YAML'
suites:
  hpa:
    # The local cluster's controller manager (fixtures/local-cluster/local-cluster.sh).
    controller:
      sync_period: 1s
      downscale_stabilization: 15s
      cpu_initialization: 10s
      initial_readiness_delay: 5s
YAML
hpa_status=0
in_cluster "$kgate" run --config "$work/kgate-hpa.yaml" --suites hpa || hpa_status=$?
((status == 0)) && status=$hpa_status

log "reports: $report/report.html and $report/hpa/report.html"
exit "$status"
