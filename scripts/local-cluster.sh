#!/usr/bin/env bash
# A local Kubernetes cluster whose pods are local processes, for trying kgate's cluster suites
# by hand:
#
#   scripts/local-cluster.sh            # builds what is missing, starts it, runs until Ctrl-C
#   export KUBECONFIG=/tmp/kgate-local-cluster/kubeconfig   (printed when ready)
#   kubectl apply -f my-deployment.yaml; kubectl get pods -w; kubectl top pods
#
# The control plane (etcd, kube-apiserver, kube-controller-manager) is built once from the Go
# module proxy into ~/.cache/kgate (about 11 minutes cold on 2 cores); the images todo-app and
# kgate map to this build's binaries. Needs root (it routes the cluster's addresses to lo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
KGATE_TARGETS="kgate todo-app kgate-node-agent kgate-podnet" scripts/build.sh
fixtures/control-plane/build.sh >/dev/null
dir="${KGATE_CLUSTER_DIR:-/tmp/kgate-local-cluster}"
exec fixtures/local-cluster/local-cluster.sh up --dir "$dir" \
  --node-agent build/fixtures/node-agent/kgate-node-agent \
  --image "todo-app=$PWD/build/app/todo-app" --image "kgate=$PWD/build/core/kgate" "$@"
