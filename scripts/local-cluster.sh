#!/usr/bin/env bash
# A local Kubernetes cluster whose pods are local processes, in a network namespace of its own,
# for trying kgate's cluster suites by hand:
#
#   scripts/local-cluster.sh                        # builds what is missing, starts it, runs until Ctrl-C
#   scripts/local-cluster.sh exec -- kubectl get pods -o wide      # (from another terminal)
#   scripts/local-cluster.sh exec -- build/core/kgate cluster-info
#   scripts/local-cluster.sh shell                  # a shell in the cluster's network, KUBECONFIG set
#
# The cluster's addresses (pods 10.244.1.0/24, Services 10.96.1.0/24, the API server on
# 127.0.0.1:6443) exist only inside its namespace: run whatever talks to it through `exec` or
# `shell` (they use nsenter). The control plane (etcd, kube-apiserver, kube-controller-manager) is
# built once from the Go module proxy into ~/.cache/kgate (about 11 minutes cold on 2 cores); the
# images todo-app and kgate map to this build's binaries. Needs root (network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${KGATE_CLUSTER_DIR:-/tmp/kgate-local-cluster}"

case "${1:-up}" in
  exec)
    shift
    [[ "${1:-}" == -- ]] && shift
    exec fixtures/local-cluster/local-cluster.sh exec --dir "$dir" -- "$@"
    ;;
  shell)
    echo "local-cluster: a shell in the cluster's network namespace (exit to leave)" >&2
    exec fixtures/local-cluster/local-cluster.sh exec --dir "$dir" -- \
      env PS1='(kgate-cluster) \w \$ ' bash --norc -i
    ;;
  up | -*)
    if [[ "${1:-}" == up ]]; then shift; fi
    ;;
  *)
    echo "usage: $0 [up [OPTIONS]] | exec -- COMMAND... | shell" >&2
    exit 2
    ;;
esac

scripts/setup.sh
KGATE_TARGETS="kgate todo-app kgate-node-agent kgate-podnet" scripts/build.sh
fixtures/control-plane/build.sh >/dev/null
echo "local-cluster: when it says ready, work in its network from another terminal:" >&2
echo "  scripts/local-cluster.sh exec -- kubectl get nodes      or      scripts/local-cluster.sh shell" >&2
exec fixtures/local-cluster/local-cluster.sh up --dir "$dir" \
  --node-agent build/fixtures/node-agent/kgate-node-agent \
  --image "todo-app=$PWD/build/app/todo-app" --image "kgate=$PWD/build/core/kgate" "$@"
