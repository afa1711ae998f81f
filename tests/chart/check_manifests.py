#!/usr/bin/env python3
"""Static checks of the todo Helm chart (chart/todo), run by CTest (label: chart).

  check_manifests.py lint [VALUES.yaml ...]      helm lint --strict, with each values file
  check_manifests.py render SCENARIO             helm template + policy + scenario checks
  check_manifests.py reject SCENARIO             helm template must refuse these values
  check_manifests.py check MANIFEST.yaml         policy checks of any rendered manifest
  check_manifests.py selftest                    the policy checks catch known-bad specs
  check_manifests.py list                        scenario names

Helm is $KGATE_HELM, else $HOME/.cache/kgate/bin/helm (scripts/install-helm.sh
puts it there). The chart is $KGATE_CHART, else chart/todo beside this checkout.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("check_manifests: PyYAML is missing: apt-get install python3-yaml (or pip install PyYAML)")

REPO = Path(__file__).resolve().parents[2]
CHART = Path(os.environ.get("KGATE_CHART", REPO / "chart" / "todo"))
RELEASE = "todo"
NAMESPACE = "kgate-test"

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
SECRETISH_ENV = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|DATABASE_URL|_DSN$)", re.I)
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I)
STANDARD_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                   "app.kubernetes.io/managed-by", "helm.sh/chart")


# --------------------------------------------------------------------------- helm

def helm_path() -> str:
    env = os.environ.get("KGATE_HELM")
    candidate = env or str(Path.home() / ".cache" / "kgate" / "bin" / "helm")
    if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
        where = f"KGATE_HELM={env}" if env else candidate
        sys.exit(f"check_manifests: helm not found at {where}.\n"
                 f"  Run scripts/install-helm.sh (it builds the pinned Helm into $HOME/.cache/kgate/bin),\n"
                 f"  or point KGATE_HELM at a Helm 3 binary.")
    return candidate


def run_helm(args: list[str]) -> subprocess.CompletedProcess:
    cmd = [helm_path(), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def template(helm_args: list[str]) -> list[dict]:
    res = run_helm(["template", RELEASE, str(CHART), "--namespace", NAMESPACE, *helm_args])
    if res.returncode != 0:
        sys.exit(f"check_manifests: helm template {' '.join(helm_args)} failed:\n{res.stderr}")
    return load_docs(res.stdout)


def load_docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


# --------------------------------------------------------------------------- model

def name_of(doc: dict) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def pod_template(doc: dict) -> tuple[dict, dict] | None:
    """(pod metadata, pod spec) of a workload, or None."""
    kind = doc.get("kind")
    if kind not in WORKLOAD_KINDS:
        return None
    if kind == "Pod":
        return doc.get("metadata", {}), doc.get("spec", {})
    spec = doc.get("spec", {})
    if kind == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    tpl = spec.get("template", {})
    return tpl.get("metadata", {}), tpl.get("spec", {})


def containers(pod: dict) -> list[tuple[str, dict]]:
    out = [("container", c) for c in pod.get("containers", []) or []]
    out += [("initContainer", c) for c in pod.get("initContainers", []) or []]
    return out


def is_hook(doc: dict) -> bool:
    return "helm.sh/hook" in (doc.get("metadata", {}).get("annotations") or {})


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def secret_values(docs: list[dict]) -> dict[str, str]:
    """Every value held by a rendered Secret, decoded: name/key -> value."""
    out = {}
    for d in docs:
        if d.get("kind") != "Secret":
            continue
        for k, v in (d.get("data") or {}).items():
            out[f"{d['metadata']['name']}/{k}"] = base64.b64decode(v).decode("utf-8", "replace")
        for k, v in (d.get("stringData") or {}).items():
            out[f"{d['metadata']['name']}/{k}"] = str(v)
    return out


# --------------------------------------------------------------------------- policy

def check_policy(docs: list[dict], external_secrets: frozenset[str] = frozenset()) -> list[str]:
    errors: list[str] = []
    err = errors.append
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d.get("kind", "?"), []).append(d)

    secrets = {d["metadata"]["name"]: d for d in by_kind.get("Secret", [])}
    configmaps = {d["metadata"]["name"]: d for d in by_kind.get("ConfigMap", [])}
    services = {d["metadata"]["name"]: d for d in by_kind.get("Service", [])}
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
    plain_secrets = [v for v in secret_values(docs).values() if len(v) >= 8]

    for d in docs:
        labels = d.get("metadata", {}).get("labels") or {}
        for lbl in STANDARD_LABELS:
            if lbl not in labels:
                err(f"{name_of(d)}: missing label {lbl}")

    # Service accounts a RoleBinding grants something: their pods call the API (the test pod's
    # live audit) and may mount a token; every other pod must not.
    bound = {s.get("name") for b in by_kind.get("RoleBinding", []) for s in b.get("subjects") or []
             if s.get("kind") == "ServiceAccount"}
    workloads = [d for d in docs if pod_template(d)]
    if not workloads:
        err("no workloads rendered")
    for d in workloads:
        where = name_of(d)
        meta, pod = pod_template(d)
        psc = pod.get("securityContext") or {}
        if pod.get("automountServiceAccountToken") is not False and pod.get("serviceAccountName") not in bound:
            err(f"{where}: automountServiceAccountToken must be false")
        if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
            err(f"{where}: uses host namespaces")
        if psc.get("runAsUser") == 0:
            err(f"{where}: pod runs as root (runAsUser 0)")
        spec_text = json.dumps(pod)
        for value in plain_secrets:
            if value in spec_text:
                err(f"{where}: a Secret's value appears literally in the pod spec")
        if d.get("kind") == "Deployment":
            strategy = d["spec"].get("strategy") or {}
            if strategy.get("type", "RollingUpdate") != "RollingUpdate":
                err(f"{where}: strategy must be RollingUpdate")
            if str((strategy.get("rollingUpdate") or {}).get("maxUnavailable")) != "0":
                err(f"{where}: rollingUpdate.maxUnavailable must be 0")
            if not selects(d["spec"].get("selector", {}).get("matchLabels", {}), meta.get("labels") or {}):
                err(f"{where}: selector does not match its pod template labels")

        for what, c in containers(pod):
            cw = f"{where} {what} {c.get('name')}"
            sc = c.get("securityContext") or {}
            run_as_non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
            run_as_user = sc.get("runAsUser", psc.get("runAsUser"))
            if run_as_non_root is not True:
                err(f"{cw}: runAsNonRoot must be true")
            if run_as_user is None or run_as_user == 0:
                err(f"{cw}: runAsUser must be set to a non-zero uid")
            if sc.get("readOnlyRootFilesystem") is not True:
                err(f"{cw}: readOnlyRootFilesystem must be true")
            if sc.get("allowPrivilegeEscalation") is not False:
                err(f"{cw}: allowPrivilegeEscalation must be false")
            if sc.get("privileged"):
                err(f"{cw}: privileged")
            caps = sc.get("capabilities") or {}
            if "ALL" not in (caps.get("drop") or []):
                err(f"{cw}: capabilities.drop must include ALL")
            if caps.get("add"):
                err(f"{cw}: adds capabilities {caps['add']}")
            seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                err(f"{cw}: seccompProfile must be RuntimeDefault")
            requests = (c.get("resources") or {}).get("requests") or {}
            limits = (c.get("resources") or {}).get("limits") or {}
            for r in ("cpu", "memory"):
                if r not in requests:
                    err(f"{cw}: resources.requests.{r} missing")
            if "memory" not in limits:
                err(f"{cw}: resources.limits.memory missing")
            image = str(c.get("image", ""))
            tag = image.rsplit("/", 1)[-1]
            if "@sha256:" not in image and (":" not in tag or tag.endswith(":latest")):
                err(f"{cw}: image {image!r} is not pinned (no tag, or :latest)")
            if what == "container" and d.get("kind") in LONG_RUNNING:
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in c:
                        err(f"{cw}: {probe} missing")
                if d.get("kind") == "Deployment" and "startupProbe" not in c:
                    err(f"{cw}: startupProbe missing")
                ports = {p.get("name") for p in c.get("ports") or []}
                for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                    port = ((c.get(probe) or {}).get("httpGet") or {}).get("port")
                    if isinstance(port, str) and port not in ports:
                        err(f"{cw}: {probe} uses port {port!r}, not a container port")
            for ef in c.get("envFrom") or []:
                if "secretRef" in ef:
                    err(f"{cw}: envFrom secretRef: expose secrets one by one with secretKeyRef")
            for e in c.get("env") or []:
                name = e.get("name", "")
                if "value" in e:
                    value = str(e["value"])
                    if SECRETISH_ENV.search(name):
                        err(f"{cw}: env {name} has a literal value; use valueFrom.secretKeyRef")
                    if URL_WITH_PASSWORD.search(value):
                        err(f"{cw}: env {name} holds a URL with a password")
                    continue
                ref = e.get("valueFrom") or {}
                if SECRETISH_ENV.search(name) and "secretKeyRef" not in ref:
                    err(f"{cw}: env {name} must come from a secretKeyRef")
                if "secretKeyRef" in ref:
                    sname, key = ref["secretKeyRef"].get("name"), ref["secretKeyRef"].get("key")
                    if sname in secrets:
                        if key not in (secrets[sname].get("data") or {}) and key not in (secrets[sname].get("stringData") or {}):
                            err(f"{cw}: env {name} reads key {key} that Secret {sname} lacks")
                    elif sname not in external_secrets:
                        err(f"{cw}: env {name} reads Secret {sname}, which is not rendered")
                if "configMapKeyRef" in ref:
                    cname, key = ref["configMapKeyRef"].get("name"), ref["configMapKeyRef"].get("key")
                    if cname not in configmaps:
                        err(f"{cw}: env {name} reads ConfigMap {cname}, which is not rendered")
                    elif key not in (configmaps[cname].get("data") or {}):
                        err(f"{cw}: env {name} reads key {key} that ConfigMap {cname} lacks")

    # Services select pods that exist, on ports those pods have.
    pods = [(d, *pod_template(d)) for d in workloads if not is_hook(d)]
    for name, svc in services.items():
        selector = svc.get("spec", {}).get("selector") or {}
        matched = [(d, meta, pod) for d, meta, pod in pods if selects(selector, meta.get("labels") or {})]
        if not matched:
            err(f"Service/{name}: selector {selector} matches no pod template")
            continue
        for port in svc["spec"].get("ports", []):
            target = port.get("targetPort", port.get("port"))
            for d, _, pod in matched:
                cports = [p for _, c in containers(pod) for p in c.get("ports") or []]
                names = {p.get("name") for p in cports}
                numbers = {p.get("containerPort") for p in cports}
                if (isinstance(target, str) and target not in names) or (isinstance(target, int) and target not in numbers):
                    err(f"Service/{name}: targetPort {target!r} is not a port of {name_of(d)}")
        if svc["spec"].get("type") == "NodePort":
            for port in svc["spec"].get("ports", []):
                np = port.get("nodePort")
                if np is not None and not 30000 <= int(np) <= 32767:
                    err(f"Service/{name}: nodePort {np} outside 30000-32767")

    # HPAs target Deployments that exist and request CPU; the HPA owns replicas.
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        where = name_of(hpa)
        if hpa.get("apiVersion") != "autoscaling/v2":
            err(f"{where}: apiVersion must be autoscaling/v2")
        ref = hpa["spec"].get("scaleTargetRef", {})
        target = deployments.get(ref.get("name")) if ref.get("kind") == "Deployment" else None
        if target is None:
            err(f"{where}: scaleTargetRef {ref} is not a rendered Deployment")
            continue
        if "replicas" in target["spec"]:
            err(f"{where}: Deployment/{ref['name']} sets spec.replicas while autoscaled")
        if hpa["spec"].get("minReplicas", 1) > hpa["spec"].get("maxReplicas", 0):
            err(f"{where}: minReplicas > maxReplicas")
        metrics = hpa["spec"].get("metrics") or []
        if not any(m.get("resource", {}).get("name") == "cpu" for m in metrics):
            err(f"{where}: no CPU metric")
        for _, c in containers(pod_template(target)[1]):
            if "cpu" not in ((c.get("resources") or {}).get("requests") or {}):
                err(f"{where}: {c.get('name')} has no CPU request, so CPU utilization is undefined")

    # PodDisruptionBudgets and Ingress backends point at things that exist.
    for pdb in by_kind.get("PodDisruptionBudget", []):
        sel = pdb["spec"].get("selector", {}).get("matchLabels") or {}
        if not any(selects(sel, meta.get("labels") or {}) for _, meta, _ in pods):
            err(f"{name_of(pdb)}: selector matches no pod template")
    for ing in by_kind.get("Ingress", []):
        for rule in ing["spec"].get("rules", []):
            for path in (rule.get("http") or {}).get("paths", []):
                svc = path.get("backend", {}).get("service", {})
                target = services.get(svc.get("name"))
                if target is None:
                    err(f"{name_of(ing)}: path {path.get('path')} routes to missing Service {svc.get('name')}")
                    continue
                port = svc.get("port", {})
                names = {p.get("name") for p in target["spec"].get("ports", [])}
                numbers = {p.get("port") for p in target["spec"].get("ports", [])}
                if ("name" in port and port["name"] not in names) or ("number" in port and port["number"] not in numbers):
                    err(f"{name_of(ing)}: path {path.get('path')} uses a port Service/{svc.get('name')} lacks")

    for sts in by_kind.get("StatefulSet", []):
        governing = services.get(sts["spec"].get("serviceName"))
        if governing is None or governing["spec"].get("clusterIP") != "None":
            err(f"{name_of(sts)}: serviceName must name a rendered headless Service")
    return errors


# --------------------------------------------------------------------------- scenarios

def find(docs, kind, name=None):
    hits = [d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]
    return hits


def one(docs, kind, name):
    hits = find(docs, kind, name)
    assert len(hits) == 1, f"expected one {kind}/{name}, found {len(hits)}"
    return hits[0]


def container(docs, kind, name, cname):
    _, pod = pod_template(one(docs, kind, name))
    for c in pod.get("containers", []):
        if c["name"] == cname:
            return c
    raise AssertionError(f"{kind}/{name} has no container {cname}")


def env_value(c, name):
    for e in c.get("env") or []:
        if e["name"] == name:
            return e.get("value", e.get("valueFrom"))
    return None


def arg_after(c, flag):
    args = c.get("args") or []
    assert flag in args, f"{c['name']}: no {flag} in args {args}"
    return args[args.index(flag) + 1]


def secret_data(docs, name):
    s = one(docs, "Secret", name)
    return {k: base64.b64decode(v).decode() for k, v in s["data"].items()}


def expect_default(docs):
    be = container(docs, "Deployment", "todo-backend", "backend")
    fe = container(docs, "Deployment", "todo-frontend", "frontend")
    assert be["args"][:6] == ["--role", "api", "--bind", "0.0.0.0", "--port", "7860"], be["args"]
    assert fe["args"][:6] == ["--role", "web", "--bind", "0.0.0.0", "--port", "3000"], fe["args"]
    assert arg_after(fe, "--backend-url") == "http://todo-backend:7860"
    assert be["startupProbe"]["httpGet"]["path"] == "/health"
    assert be["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert be["livenessProbe"]["httpGet"]["path"] == "/health"
    for p in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert fe[p]["httpGet"]["path"] == "/api/health", p
    assert env_value(be, "TODO_FAULTS") is None and env_value(fe, "TODO_FAULTS") is None
    for c in (be, fe):
        for var in ("DATABASE_URL", "BETTER_AUTH_SECRET"):
            assert env_value(c, var) == {"secretKeyRef": {"name": "todo-secrets", "key": var}}, (c["name"], var)
    cm = one(docs, "ConfigMap", "todo-config")["data"]
    assert cm == {"BACKEND_URL": "http://todo-backend:7860", "FRONTEND_URL": "http://todo-frontend:3000",
                  "LOG_LEVEL": "info"}, cm
    be_svc = one(docs, "Service", "todo-backend")["spec"]
    assert be_svc["type"] == "ClusterIP" and be_svc["ports"][0]["port"] == 7860
    assert one(docs, "Service", "todo-frontend")["spec"]["type"] == "ClusterIP"
    hpas = {h["metadata"]["name"]: h["spec"] for h in find(docs, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"todo-backend", "todo-frontend"}, hpas
    for name, spec in hpas.items():
        assert spec["scaleTargetRef"]["name"] == name
        assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 50
    assert {p["metadata"]["name"] for p in find(docs, "PodDisruptionBudget")} == {"todo-backend", "todo-frontend"}
    assert not find(docs, "Ingress")
    # NetworkPolicies: the HTTP port of each role from anywhere; PostgreSQL from the app's pods.
    nps = {n["metadata"]["name"]: n["spec"] for n in find(docs, "NetworkPolicy")}
    assert set(nps) == {"todo-backend", "todo-frontend", "todo-postgresql"}, nps
    assert nps["todo-backend"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    db_from = nps["todo-postgresql"]["ingress"][0]["from"][0]["podSelector"]
    assert db_from["matchExpressions"][0]["values"] == ["backend", "frontend"], db_from
    # In-chart PostgreSQL with a PVC; the app's DATABASE_URL points at it.
    sts = one(docs, "StatefulSet", "todo-postgresql")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    data = secret_data(docs, "todo-secrets")
    assert data["DATABASE_URL"].startswith("postgresql://todo:") and "@todo-postgresql:5432/todo" in data["DATABASE_URL"]
    assert data["POSTGRES_PASSWORD"] in data["DATABASE_URL"]
    assert len(data["BETTER_AUTH_SECRET"]) >= 32
    # helm test: kgate's smoke, security and audit suites against the backend Service, secret
    # from the same Secret, results as a block at the end of the log (kgate collect).
    test = one(docs, "Pod", "todo-kgate")
    assert test["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert test["metadata"]["annotations"]["helm.sh/hook-delete-policy"] == "before-hook-creation"
    kg = test["spec"]["containers"][0]
    assert kg["image"] == "kgate/kgate:0.1.0", kg["image"]
    assert kg["args"][0] == "run" and arg_after(kg, "--target") == "http://todo-backend:7860"
    assert arg_after(kg, "--suites") == "smoke,security,audit"
    assert "--results-block" in kg["args"] and arg_after(kg, "--config") == "/etc/kgate/kgate.yaml"
    assert env_value(kg, "BETTER_AUTH_SECRET") == {"secretKeyRef": {"name": "todo-secrets", "key": "BETTER_AUTH_SECRET"}}
    assert test["spec"]["restartPolicy"] == "Never"
    # The live audit's identity: its own service account, bound to a read-only Role in the
    # namespace, the only pod that mounts a token. Not hooks: `helm uninstall` removes them.
    assert test["spec"]["serviceAccountName"] == "todo-kgate" and test["spec"]["automountServiceAccountToken"] is True
    role = one(docs, "Role", "todo-kgate")
    verbs = {v for r in role["rules"] for v in r["verbs"]}
    assert verbs == {"get", "list"}, verbs
    assert not any("*" in r["resources"] + r["apiGroups"] for r in role["rules"]), role["rules"]
    binding = one(docs, "RoleBinding", "todo-kgate")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "todo-kgate"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "todo-kgate", "namespace": NAMESPACE}]
    assert one(docs, "ServiceAccount", "todo-kgate")["automountServiceAccountToken"] is False
    for kind in ("ServiceAccount", "Role", "RoleBinding", "ConfigMap"):
        assert not is_hook(one(docs, kind, "todo-kgate")), kind
    kgate_yaml = yaml.safe_load(one(docs, "ConfigMap", "todo-kgate")["data"]["kgate.yaml"])
    assert kgate_yaml == {"kubernetes": {"release": "todo", "namespace": NAMESPACE}}, kgate_yaml
    assert be["image"] == "kgate/todo-app:0.1.0"


def expect_faults(docs):
    be = container(docs, "Deployment", "todo-backend", "backend")
    fe = container(docs, "Deployment", "todo-frontend", "frontend")
    assert env_value(be, "TODO_FAULTS") == "slow-health,http-500,leak-secret", env_value(be, "TODO_FAULTS")
    assert env_value(fe, "TODO_FAULTS") == "slow-health,http-500", env_value(fe, "TODO_FAULTS")


def expect_faults_cleared(docs):
    for dep in ("todo-backend", "todo-frontend"):
        c = container(docs, "Deployment", dep, dep.split("-")[1])
        assert env_value(c, "TODO_FAULTS") is None, dep


def expect_ingress(docs):
    ing = one(docs, "Ingress", "todo")
    spec = ing["spec"]
    assert spec["ingressClassName"] == "traefik"
    assert spec["tls"] == [{"secretName": "todo-tls", "hosts": ["todo.example.test"]}]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in spec["rules"][0]["http"]["paths"]}
    assert routes == {"/api/auth": "todo-frontend", "/api": "todo-backend", "/": "todo-frontend"}, routes
    assert spec["rules"][0]["host"] == "todo.example.test"
    cm = one(docs, "ConfigMap", "todo-config")["data"]
    assert cm["FRONTEND_URL"] == "https://todo.example.test", cm


def expect_ingress_strict(docs):
    routes = {p["path"]: p["backend"]["service"]["name"]
              for p in one(docs, "Ingress", "todo")["spec"]["rules"][0]["http"]["paths"]}
    assert routes == {"/api": "todo-backend", "/": "todo-frontend"}, routes
    assert "ingressClassName" not in one(docs, "Ingress", "todo")["spec"]


def expect_external_db(docs):
    assert not find(docs, "StatefulSet")
    assert not [s for s in find(docs, "Service") if "postgresql" in s["metadata"]["name"]]
    data = secret_data(docs, "todo-secrets")
    assert data["DATABASE_URL"] == "postgresql://app:pw-from-ci@db.example.test:5432/todo?sslmode=require"
    assert data["BETTER_AUTH_SECRET"] == "ci-secret-0123456789abcdef0123456789"
    assert "POSTGRES_PASSWORD" not in data
    _, pod = pod_template(one(docs, "Deployment", "todo-backend"))
    assert not pod.get("initContainers"), "no database to wait for"
    assert {n["metadata"]["name"] for n in find(docs, "NetworkPolicy")} == {"todo-backend", "todo-frontend"}


def expect_existing_secret(docs):
    assert not find(docs, "Secret"), "existingSecret: the chart must not render a Secret"
    for dep in ("todo-backend", "todo-frontend"):
        c = container(docs, "Deployment", dep, dep.split("-")[1])
        assert env_value(c, "DATABASE_URL") == {"secretKeyRef": {"name": "my-app-secrets", "key": "DATABASE_URL"}}
    kg = one(docs, "Pod", "todo-kgate")["spec"]["containers"][0]
    assert env_value(kg, "BETTER_AUTH_SECRET")["secretKeyRef"]["name"] == "my-app-secrets"


def expect_postgres_existing_secret(docs):
    sts = container(docs, "StatefulSet", "todo-postgresql", "postgresql")
    assert env_value(sts, "POSTGRES_PASSWORD") == {"secretKeyRef": {"name": "my-app-secrets", "key": "POSTGRES_PASSWORD"}}


def expect_minikube(docs):
    fe = one(docs, "Service", "todo-frontend")["spec"]
    assert fe["type"] == "NodePort" and fe["ports"][0]["nodePort"] == 30080, fe
    be = container(docs, "Deployment", "todo-backend", "backend")
    assert be["imagePullPolicy"] == "Never"
    assert one(docs, "Ingress", "todo")["spec"]["ingressClassName"] == "nginx"
    assert one(docs, "StatefulSet", "todo-postgresql")["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "standard"


def expect_fixed_replicas(docs):
    assert not find(docs, "HorizontalPodAutoscaler")
    assert one(docs, "Deployment", "todo-backend")["spec"]["replicas"] == 3
    assert one(docs, "Deployment", "todo-frontend")["spec"]["replicas"] == 1
    # A single replica gets no PDB (it would block node drains).
    assert [p["metadata"]["name"] for p in find(docs, "PodDisruptionBudget")] == ["todo-backend"]


def expect_custom(docs):
    be = container(docs, "Deployment", "todo-backend", "backend")
    assert arg_after(be, "--port") == "8000" and arg_after(be, "--threads") == "4"
    assert be["ports"][0]["containerPort"] == 8000
    assert one(docs, "Service", "todo-backend")["spec"]["ports"][0]["port"] == 8000
    fe = container(docs, "Deployment", "todo-frontend", "frontend")
    assert arg_after(fe, "--backend-url") == "http://todo-backend:8000"
    test = one(docs, "Pod", "todo-kgate")
    kg = test["spec"]["containers"][0]
    assert arg_after(kg, "--target") == "http://todo-backend:8000"
    assert arg_after(kg, "--suites") == "smoke,security"
    assert arg_after(kg, "--config") == "/etc/kgate/kgate.yaml"
    # Without the audit: no API access, no RBAC; the user's config merged over the generated one.
    assert test["spec"]["automountServiceAccountToken"] is False and test["spec"]["serviceAccountName"] == "todo"
    assert not find(docs, "Role") and not find(docs, "RoleBinding")
    cm = yaml.safe_load(one(docs, "ConfigMap", "todo-kgate")["data"]["kgate.yaml"])
    assert cm == {"kubernetes": {"release": "todo", "namespace": NAMESPACE, "request_timeout": "5s"},
                  "target": {"request_timeout": "5s"}}, cm
    assert env_value(be, "LLM_API_KEY") == {"secretKeyRef": {"name": "todo-secrets", "key": "LLM_API_KEY"}}
    assert env_value(fe, "LLM_API_KEY") is None
    hpa = one(docs, "HorizontalPodAutoscaler", "todo-backend")["spec"]
    assert hpa["minReplicas"] == 3 and hpa["maxReplicas"] == 9
    assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu", "memory"]


EXTERNAL = ["--set", "secrets.databaseUrl=postgresql://app:pw-from-ci@db.example.test:5432/todo?sslmode=require",
            "--set", "secrets.betterAuthSecret=ci-secret-0123456789abcdef0123456789"]

SCENARIOS = {
    "default": ([], expect_default, ()),
    "faults": (["--set", "faults={slow-health,http-500}", "--set", "backend.faults={leak-secret}"], expect_faults, ()),
    "faults-cleared": (["--set", "faults=null", "--set", "backend.faults=null", "--set", "frontend.faults=null",
                        "--set", "ingress.enabled=true", "--set", "ingress.tls=null"], expect_faults_cleared, ()),
    "ingress": (["--set", "ingress.enabled=true", "--set", "ingress.className=traefik",
                 "--set", "ingress.hosts={todo.example.test}",
                 "--set", "ingress.tls[0].secretName=todo-tls", "--set", "ingress.tls[0].hosts={todo.example.test}"],
                expect_ingress, ()),
    "ingress-strict": (["--set", "ingress.enabled=true", "--set", "ingress.className=",
                        "--set", "ingress.frontendApiPaths=null"], expect_ingress_strict, ()),
    "external-db": (EXTERNAL, expect_external_db, ()),
    "existing-secret": (["--set", "secrets.existingSecret=my-app-secrets", "--set", "postgresql.enabled=false"],
                        expect_existing_secret, ("my-app-secrets",)),
    "postgres-existing-secret": (["--set", "secrets.existingSecret=my-app-secrets"],
                                 expect_postgres_existing_secret, ("my-app-secrets",)),
    "minikube": (["-f", str(CHART / "values-minikube.yaml")], expect_minikube, ()),
    "fixed-replicas": (["--set", "backend.autoscaling.enabled=false", "--set", "backend.replicaCount=3",
                        "--set", "frontend.autoscaling.enabled=false", "--set", "frontend.replicaCount=1"],
                       expect_fixed_replicas, ()),
    "custom": (["--set", "backend.port=8000", "--set", "backend.service.port=8000", "--set", "backend.threads=4",
                "--set", "tests.kgate.suites={smoke,security}",
                "--set-string", "tests.kgate.config=target:\n  request_timeout: 5s\nkubernetes:\n  request_timeout: 5s\n",
                "--set", "secrets.extra.LLM_API_KEY=sk-not-a-real-key-0000",
                "--set", "backend.autoscaling.minReplicas=3", "--set", "backend.autoscaling.maxReplicas=9",
                "--set", "backend.autoscaling.targetMemoryUtilizationPercentage=80"], expect_custom, ()),
}

# Values the chart must refuse, and a fragment of the error it must give.
REJECTIONS = {
    "bad-pull-policy": (["--set", "image.pullPolicy=Sometimes"], "pullPolicy"),
    "unknown-key": (["--set", "backend.replicas=3"], "additional properties 'replicas'"),
    "fault-with-comma": (["--set-json", 'faults=["a,b"]'], "/faults/0"),
    "no-database": (["--set", "postgresql.enabled=false"], "no database"),
    "no-cpu-request": (["--set", "backend.resources.requests.cpu=null"], "cpu"),
    "nodeport-on-clusterip": (["--set", "frontend.service.nodePort=30080"], "nodePort needs"),
    "nodeport-range": (["--set", "frontend.service.type=NodePort", "--set", "frontend.service.nodePort=80"], "nodePort"),
    "bad-log-level": (["--set", "config.logLevel=loud"], "logLevel"),
    "bad-grace": (["--set", "backend.grace=10"], "grace"),
    "ingress-without-host": (["--set", "ingress.enabled=true", "--set", "ingress.hosts=null"], "ingress"),
}


# --------------------------------------------------------------------------- self-test

BAD_MANIFEST = """
apiVersion: v1
kind: Secret
metadata: {name: s, labels: {app.kubernetes.io/name: x, app.kubernetes.io/instance: x, app.kubernetes.io/managed-by: Helm, helm.sh/chart: x}}
data: {DATABASE_URL: cG9zdGdyZXNxbDovL3U6aHVudGVyMjJAZGIvdG9kbw==}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app.kubernetes.io/name: x, app.kubernetes.io/instance: x, app.kubernetes.io/managed-by: Helm, helm.sh/chart: x}}
spec:
  replicas: 2
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: kgate/todo-app:latest
          securityContext: {runAsUser: 0, privileged: true}
          env:
            - {name: BETTER_AUTH_SECRET, value: plain-text}
            - {name: DATABASE_URL, value: "postgresql://u:hunter22@db/todo"}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app.kubernetes.io/name: x, app.kubernetes.io/instance: x, app.kubernetes.io/managed-by: Helm, helm.sh/chart: x}}
spec: {selector: {app: nothing}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, labels: {app.kubernetes.io/name: x, app.kubernetes.io/instance: x, app.kubernetes.io/managed-by: Helm, helm.sh/chart: x}}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, minReplicas: 1, maxReplicas: 3, metrics: []}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unlabelled}
data: {LOG_LEVEL: info}
"""

EXPECTED_FINDINGS = [
    "runAsNonRoot must be true", "runAsUser must be set to a non-zero uid", "readOnlyRootFilesystem must be true",
    "allowPrivilegeEscalation must be false", "privileged", "capabilities.drop must include ALL",
    "seccompProfile must be RuntimeDefault", "resources.requests.cpu missing", "readinessProbe missing",
    "livenessProbe missing", "startupProbe missing", "env BETTER_AUTH_SECRET has a literal value",
    "env DATABASE_URL holds a URL with a password", "a Secret's value appears literally",
    "automountServiceAccountToken must be false", "maxUnavailable must be 0", "is not pinned",
    "Service/web: selector", "scaleTargetRef", "missing label app.kubernetes.io/name",
]


def selftest() -> int:
    errors = check_policy(load_docs(BAD_MANIFEST))
    missed = [f for f in EXPECTED_FINDINGS if not any(f in e for e in errors)]
    if missed:
        print("check_manifests selftest: the policy missed:", *missed, sep="\n  ")
        print("it reported:", *errors, sep="\n  ")
        return 1
    print(f"check_manifests selftest: {len(errors)} findings on the bad manifest, all expected ones present")
    return 0


# --------------------------------------------------------------------------- main

def report(errors: list[str], label: str) -> int:
    if errors:
        print(f"{label}: {len(errors)} problem(s):")
        for e in errors:
            print(f"  - {e}")
        return 1
    print(f"{label}: ok")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "list":
        print("render:", " ".join(SCENARIOS))
        print("reject:", " ".join(REJECTIONS))
        return 0
    if cmd == "selftest":
        return selftest()
    if cmd == "lint":
        args = ["lint", "--strict", str(CHART)]
        for f in rest:
            args += ["-f", f]
        res = run_helm(args)
        print(res.stdout, res.stderr, sep="")
        return 0 if res.returncode == 0 else 1
    if cmd == "check":
        if len(rest) != 1:
            print("usage: check_manifests.py check MANIFEST.yaml", file=sys.stderr)
            return 2
        text = sys.stdin.read() if rest[0] == "-" else Path(rest[0]).read_text()
        return report(check_policy(load_docs(text)), f"policy {rest[0]}")
    if cmd == "render":
        if len(rest) != 1 or rest[0] not in SCENARIOS:
            print(f"usage: check_manifests.py render {{{','.join(SCENARIOS)}}}", file=sys.stderr)
            return 2
        args, expect, external = SCENARIOS[rest[0]]
        docs = template(args)
        kinds = sorted({d['kind'] for d in docs})
        print(f"scenario {rest[0]}: {len(docs)} objects ({', '.join(kinds)})")
        errors = check_policy(docs, frozenset(external))
        try:
            expect(docs)
        except (AssertionError, KeyError, IndexError, TypeError) as e:
            errors.append(f"scenario expectation failed: {type(e).__name__}: {e}")
        return report(errors, f"scenario {rest[0]}")
    if cmd == "reject":
        if len(rest) != 1 or rest[0] not in REJECTIONS:
            print(f"usage: check_manifests.py reject {{{','.join(REJECTIONS)}}}", file=sys.stderr)
            return 2
        args, fragment = REJECTIONS[rest[0]]
        res = run_helm(["template", RELEASE, str(CHART), *args])
        if res.returncode == 0:
            print(f"reject {rest[0]}: helm template accepted {args}")
            return 1
        if fragment not in res.stderr:
            print(f"reject {rest[0]}: refused, but the error does not mention {fragment!r}:\n{res.stderr}")
            return 1
        line = next(l for l in res.stderr.splitlines() if fragment in l)
        print(f"reject {rest[0]}: refused as expected: {line.strip()}")
        return 0
    print(f"check_manifests: unknown command {cmd!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
