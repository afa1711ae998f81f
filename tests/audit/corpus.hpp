#pragma once
// The audit's test corpus: one application that passes every rule (the corrected twin), and per
// rule an edit that plants exactly one defect. Lines carry anchors (#name) that edits replace.
#include <string>
#include <vector>

namespace kgate::audit::test {

// 64 hex digits: a digest-pinned image passes image-tag and image-digest.
inline const std::string kDigest =
    "sha256:3f2a7c1e9b8d6f5a4c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918f7e6d5c";
// Planted secret values: no output may ever contain them.
inline const std::string kPlantedSecret = "planted-Secret-value-7Qx9Lw2Mv8";
inline const std::string kPlantedEnv = "planted-env-value-R4t6Y8u0";
inline const std::string kPlantedConfigMap = "planted-configmap-value-K3j5H7g9";

inline std::string good_app() {
  return R"(apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}  #strategy
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false  #pod-automount
      terminationGracePeriodSeconds: 30  #pod-grace
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000  #pod-uid
        seccompProfile: {type: RuntimeDefault}  #pod-seccomp
      containers:
        - name: app
          image: registry.example.com/shop/web:1.4.2@)" +
         kDigest + R"(  #c-image
          ports:
            - {name: http, containerPort: 8080}
          env:
            - {name: LOG_LEVEL, value: info}  #env-log
            - name: API_TOKEN
              valueFrom: {secretKeyRef: {name: web-secrets, key: API_TOKEN}}  #env-token-ref
          readinessProbe: {httpGet: {path: /ready, port: http}}  #c-ready
          livenessProbe: {httpGet: {path: /health, port: 8080}}  #c-live
          lifecycle: {preStop: {sleep: {seconds: 5}}}  #c-prestop
          resources:
            requests: {cpu: 100m, memory: 64Mi}  #c-requests
            limits: {memory: 128Mi}  #c-limits
          securityContext:
            allowPrivilegeEscalation: false  #c-ape
            readOnlyRootFilesystem: true  #c-rorfs
            capabilities: {drop: [ALL]}  #c-caps
          volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes:
        - name: tmp
          emptyDir: {}  #vol-tmp
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}  #svc-selector
  ports:
    - {name: http, port: 80, targetPort: http}  #svc-port
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
    - host: shop.example.test
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: web, port: {number: 80}}  #ing-backend
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}  #hpa-target
  minReplicas: 2  #hpa-min
  maxReplicas: 6
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  minAvailable: 1  #pdb-min
  selector: {matchLabels: {app: web}}  #pdb-selector
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}  #np-selector
  policyTypes: [Ingress]
  ingress:
    - ports: [{port: 8080, protocol: TCP}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: shop}
data:
  FEATURE_FLAGS: "search,export"  #cm-data
  LOG_LEVEL: info
---
apiVersion: v1
kind: Secret
metadata: {name: web-secrets, namespace: shop}
type: Opaque
stringData:
  API_TOKEN: )" +
         kPlantedSecret + R"(
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list]  #role-verbs
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: shop}
subjects: [{kind: ServiceAccount, name: reader, namespace: shop}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}  #rb-roleref
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: sync, namespace: shop}
spec:
  schedule: "*/15 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: reader
          restartPolicy: OnFailure
          securityContext:
            runAsNonRoot: true
            runAsUser: 1000
            seccompProfile: {type: RuntimeDefault}
          containers:
            - name: sync
              image: registry.example.com/shop/sync:2.0.1@)" +
         kDigest + R"(
              resources:
                requests: {cpu: 50m, memory: 32Mi}
                limits: {memory: 64Mi}
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                capabilities: {drop: [ALL]}
)";
}

struct Defect {
  std::string rule;                    // the rule shown firing
  std::string anchor;                  // "#c-image": the line that holds it is replaced
  std::string replacement;             // the new line(s), indentation included
  std::vector<std::string> also = {};  // rules the same defect necessarily trips too
};

// One defect per rule (image-vulnerabilities and image-scan-unmatched need reports: see the
// image-scan tests).
inline std::vector<Defect> defects() {
  const std::string c = "            ";  // a container's securityContext fields
  return {
      {"run-as-non-root", "#pod-uid", "        runAsUser: 0"},
      {"no-privilege-escalation", "#c-ape", c + "allowPrivilegeEscalation: true"},
      {"not-privileged", "#c-ape",
       c + "allowPrivilegeEscalation: false\n" + c + "privileged: true"},
      {"drop-all-capabilities", "#c-caps", c + "capabilities: {drop: [NET_RAW]}"},
      {"no-dangerous-capabilities", "#c-caps", c + "capabilities: {drop: [ALL], add: [SYS_ADMIN]}"},
      {"read-only-root-filesystem", "#c-rorfs", c + "readOnlyRootFilesystem: false"},
      {"seccomp-profile", "#pod-seccomp", "        seccompProfile: {type: Unconfined}"},
      {"no-host-namespaces", "#pod-grace",
       "      terminationGracePeriodSeconds: 30\n      hostNetwork: true"},
      {"no-host-path", "#vol-tmp", "          hostPath: {path: /var/run}"},
      {"automount-service-account-token", "#pod-automount",
       "      automountServiceAccountToken: true"},
      {"secret-in-env", "#env-log",
       "            - {name: LOG_LEVEL, value: info}\n            - {name: DB_PASSWORD, value: " +
           kPlantedEnv + "}"},
      {"secret-in-configmap", "#cm-data",
       "  FEATURE_FLAGS: \"search,export\"\n  SMTP_PASSWORD: " + kPlantedConfigMap},
      {"config-references-resolve", "#env-token-ref",
       "              valueFrom: {secretKeyRef: {name: web-secrets, key: API_TOKN}}"},
      {"resource-requests", "#c-requests", "            requests: {cpu: 100m}"},
      {"memory-limit", "#c-limits", "            limits: {cpu: 500m}"},
      {"readiness-probe", "#c-ready", ""},
      {"liveness-probe", "#c-live", ""},
      {"probe-port-exists", "#c-live",
       "          livenessProbe: {httpGet: {path: /health, port: 8000}}"},
      {"image-tag", "#c-image", "          image: registry.example.com/shop/web", {"image-digest"}},
      {"image-digest", "#c-image", "          image: registry.example.com/shop/web:1.4.2"},
      {"rolling-update", "#strategy",
       "  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 2}}"},
      {"graceful-termination", "#c-prestop",
       "          lifecycle: {preStop: {exec: {command: [sh, -c, \"sleep 45\"]}}}"},
      {"service-selects-pods", "#svc-selector", "  selector: {app: webapp}"},
      {"service-target-port", "#svc-port", "    - {name: http, port: 80, targetPort: 7860}"},
      {"ingress-backend", "#ing-backend",
       "              service: {name: web, port: {number: 8080}}"},
      {"hpa-target", "#hpa-target",
       "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: webb}"},
      // A Utilization metric needs the request, so the general rule fires too.
      {"hpa-requests",
       "#c-requests",
       "            requests: {memory: 64Mi}",
       {"resource-requests"}},
      // At one replica the PDB's minAvailable 1 blocks every eviction: that is reported too.
      {"hpa-min-replicas", "#hpa-min", "  minReplicas: 1", {"pdb-allows-disruption"}},
      {"pdb-present", "#pdb-selector", "  selector: {matchLabels: {app: other}}"},
      {"pdb-allows-disruption", "#pdb-min", "  minAvailable: 2"},
      {"network-policy", "#np-selector", "  podSelector: {matchLabels: {app: other}}"},
      {"rbac-no-wildcards", "#role-verbs", "    verbs: ['*']"},
      {"rbac-no-cluster-admin", "#rb-roleref",
       "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}"},
  };
}

}  // namespace kgate::audit::test
