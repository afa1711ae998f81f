// Pod security: the Pod Security Standards' baseline and restricted controls, per container,
// with pod-level defaults applied as the kubelet applies them.
#include <set>

#include "../model.hpp"
#include "groups.hpp"

namespace kgate::audit {
namespace {

constexpr const char* kPss = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

// The container's securityContext field, else the pod's (runAsUser, runAsNonRoot, seccomp).
const json* effective(const PodSpecRef& p, const ContainerRef& c, const char* field) {
  if (const json* v = get(*c.body, {"securityContext", field}); v && !v->is_null()) return v;
  if (const json* v = get(*p.spec, {"securityContext", field}); v && !v->is_null()) return v;
  return nullptr;
}

std::string sc_pointer(const ContainerRef& c) {
  return get(*c.body, {"securityContext"}) ? c.pointer + "/securityContext" : c.pointer;
}

void run_as_non_root(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      const json* non_root = effective(p, c, "runAsNonRoot");
      const json* uid = effective(p, c, "runAsUser");
      bool uid_zero = uid && uid->is_number_integer() && uid->get<long long>() == 0;
      bool uid_nonzero = uid && uid->is_number_integer() && uid->get<long long>() > 0;
      bool declared_non_root = non_root && non_root->is_boolean() && non_root->get<bool>();
      if (uid_zero)
        f.add(*p.object, sc_pointer(c), p.describe(c) + " runs as root (runAsUser: 0)");
      else if (!uid_nonzero && !declared_non_root)
        f.add(*p.object, sc_pointer(c),
              p.describe(c) +
                  " may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set "
                  "at pod or container level");
    }
}

// The rule, as data, beside its check.
const Rule kRunAsNonRoot{
    "run-as-non-root",
    "pod-security",
    "Containers run as a non-root user",
    Severity::High,
    "PSS restricted: Running as Non-root; CIS 5.2.7; kube-score "
    "container-security-context-user-group-id",
    kPss,
    "A container that runs as root is one escape away from root on the node. The effective "
    "value counts: a container's securityContext overrides the pod's.",
    "Set securityContext.runAsNonRoot: true and a non-zero runAsUser at pod or container "
    "level, and build the image with a non-root USER.",
    &run_as_non_root};

void no_privilege_escalation(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      const json* v = get(*c.body, {"securityContext", "allowPrivilegeEscalation"});
      if (!v || !v->is_boolean() || v->get<bool>())
        f.add(*p.object, sc_pointer(c),
              p.describe(c) + " does not set allowPrivilegeEscalation: false");
    }
}

const Rule kNoPrivilegeEscalation{
    "no-privilege-escalation",
    "pod-security",
    "Containers forbid privilege escalation",
    Severity::High,
    "PSS restricted: Privilege Escalation; CIS 5.2.6",
    kPss,
    "Without allowPrivilegeEscalation: false a process can gain more privileges than its "
    "parent (setuid binaries, file capabilities).",
    "Set securityContext.allowPrivilegeEscalation: false on every container.",
    &no_privilege_escalation};

void not_privileged(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      const json* v = get(*c.body, {"securityContext", "privileged"});
      if (v && v->is_boolean() && v->get<bool>())
        f.add(*p.object, c.pointer + "/securityContext/privileged",
              p.describe(c) + " is privileged (full access to the node)");
    }
}

const Rule kNotPrivileged{
    "not-privileged",
    "pod-security",
    "No privileged containers",
    Severity::Critical,
    "PSS baseline: Privileged Containers; CIS 5.2.2; kube-score "
    "container-security-context-privileged",
    kPss,
    "A privileged container has every capability and the node's devices.",
    "Remove securityContext.privileged: true; add only the capability the container needs.",
    &not_privileged};

std::string cap_name(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : "";
  return s.rfind("CAP_", 0) == 0 ? s.substr(4) : s;
}

void drop_all_capabilities(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      bool all = false;
      if (const json* drop = get(*c.body, {"securityContext", "capabilities", "drop"});
          drop && drop->is_array())
        for (const auto& d : *drop) all = all || cap_name(d) == "ALL";
      if (!all) f.add(*p.object, sc_pointer(c), p.describe(c) + " does not drop ALL capabilities");
    }
}

const Rule kDropAllCapabilities{
    "drop-all-capabilities",
    "pod-security",
    "Containers drop ALL capabilities",
    Severity::Medium,
    "PSS restricted: Capabilities; CIS 5.2.10",
    kPss,
    "Containers start with a default set of Linux capabilities they rarely need.",
    "Set securityContext.capabilities.drop: [ALL] and add back only NET_BIND_SERVICE if "
    "needed.",
    &drop_all_capabilities};

void no_dangerous_capabilities(const Inputs& in, Findings& f) {
  // The baseline profile's allowed additions; anything else widens what a breakout can do.
  static const std::set<std::string> allowed = {
      "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL",      "MKNOD",
      "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT"};
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      const json* add = get(*c.body, {"securityContext", "capabilities", "add"});
      if (!add || !add->is_array()) continue;
      for (std::size_t i = 0; i < add->size(); ++i) {
        std::string cap = cap_name((*add)[i]);
        if (!allowed.count(cap))
          f.add(*p.object, c.pointer + "/securityContext/capabilities/add/" + std::to_string(i),
                p.describe(c) + " adds the capability " + cap);
      }
    }
}

const Rule kNoDangerousCapabilities{
    "no-dangerous-capabilities",
    "pod-security",
    "No dangerous capabilities added",
    Severity::High,
    "PSS baseline: Capabilities; CIS 5.2.9 and 5.2.8 (NET_RAW)",
    kPss,
    "Capabilities beyond the baseline set (SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE, ALL...) "
    "give a compromised container power over the node or its network.",
    "Remove the capability from securityContext.capabilities.add.",
    &no_dangerous_capabilities};

void read_only_root_filesystem(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      const json* v = get(*c.body, {"securityContext", "readOnlyRootFilesystem"});
      if (!v || !v->is_boolean() || !v->get<bool>())
        f.add(
            *p.object, sc_pointer(c),
            p.describe(c) + " has a writable root filesystem (readOnlyRootFilesystem is not true)");
    }
}

const Rule kReadOnlyRootFilesystem{
    "read-only-root-filesystem",
    "pod-security",
    "Root filesystems are read-only",
    Severity::Medium,
    "kube-score container-security-context-readonlyrootfilesystem",
    "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
    "A writable root filesystem lets an attacker drop tools and persist changes in the "
    "container.",
    "Set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app "
    "writes (/tmp).",
    &read_only_root_filesystem};

void seccomp_profile(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      const json* profile = effective(p, c, "seccompProfile");
      std::string type = profile ? get_string(*profile, {"type"}) : "";
      if (type != "RuntimeDefault" && type != "Localhost")
        f.add(*p.object, sc_pointer(c),
              p.describe(c) +
                  (type.empty() ? " has no seccomp profile" : " has seccomp profile " + type) +
                  " (RuntimeDefault or Localhost needed, at pod or container level)");
    }
}

const Rule kSeccompProfile{
    "seccomp-profile",
    "pod-security",
    "A seccomp profile is applied",
    Severity::Medium,
    "PSS restricted: Seccomp; CIS 5.7.2; kube-score container-seccomp-profile",
    kPss,
    "Without a seccomp profile every system call is allowed.",
    "Set securityContext.seccompProfile.type: RuntimeDefault at pod level (or per "
    "container).",
    &seccomp_profile};

void no_host_namespaces(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects)) {
    if (p.injected_only) continue;
    f.inspected();
    for (const char* field : {"hostNetwork", "hostPID", "hostIPC"}) {
      const json* v = get(*p.spec, {field});
      if (v && v->is_boolean() && v->get<bool>())
        f.add(*p.object, p.pointer + "/" + field,
              "the pods share the node's namespace: " + std::string(field) + ": true");
    }
  }
}

const Rule kNoHostNamespaces{
    "no-host-namespaces",
    "pod-security",
    "Pods do not share the node's namespaces",
    Severity::High,
    "PSS baseline: Host Namespaces; CIS 5.2.3, 5.2.4, 5.2.5",
    kPss,
    "hostNetwork, hostPID and hostIPC expose the node's network, processes and IPC.",
    "Remove hostNetwork, hostPID and hostIPC (or set them to false).",
    &no_host_namespaces};

void no_host_path(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects)) {
    if (p.injected_only) continue;
    f.inspected();
    const json* vols = get(*p.spec, {"volumes"});
    if (!vols || !vols->is_array()) continue;
    for (std::size_t i = 0; i < vols->size(); ++i)
      if (const json* hp = get((*vols)[i], {"hostPath"}))
        f.add(*p.object, p.pointer + "/volumes/" + std::to_string(i) + "/hostPath",
              "volume '" + get_string((*vols)[i], {"name"}) + "' mounts the node's path " +
                  get_string(*hp, {"path"}));
  }
}

const Rule kNoHostPath{"no-host-path",
                       "pod-security",
                       "No hostPath volumes",
                       Severity::High,
                       "PSS baseline: HostPath Volumes; CIS 5.2.12",
                       kPss,
                       "A hostPath volume gives the pod the node's files.",
                       "Use emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead.",
                       &no_host_path};

// Service accounts that some (Cluster)RoleBinding in the input binds: their pods use the API.
bool bound(const Objects& objects, const std::string& sa, const std::string& ns) {
  for (const char* kind : {"RoleBinding", "ClusterRoleBinding"})
    for (const Object* b : of_kind(objects, kind)) {
      const json* subjects = b->at("/subjects");
      if (!subjects || !subjects->is_array()) continue;
      for (const auto& s : *subjects) {
        std::string sns = s.value("namespace", std::string(kind) == "RoleBinding" ? b->ns() : "");
        // A rendered chart's pods carry no namespace (it comes with the install): by name.
        if (s.value("kind", "") == "ServiceAccount" && s.value("name", "") == sa &&
            (sns == ns || ns.empty()))
          return true;
      }
    }
  return false;
}

void service_account_token(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects)) {
    if (p.injected_only) continue;
    f.inspected();
    std::string sa = get_string(*p.spec, {"serviceAccountName"});
    if (sa.empty()) sa = "default";
    if (bound(in.objects, sa, p.ns)) continue;
    const json* pod = get(*p.spec, {"automountServiceAccountToken"});
    bool mounts = true;
    if (pod && pod->is_boolean()) {
      mounts = pod->get<bool>();
    } else {
      for (const Object* s : of_kind(in.objects, "ServiceAccount"))
        if (s->name() == sa && s->ns() == p.ns)
          if (const json* v = s->at("/automountServiceAccountToken"); v && v->is_boolean())
            mounts = v->get<bool>();
    }
    if (mounts)
      f.add(*p.object, pod ? p.pointer + "/automountServiceAccountToken" : p.pointer,
            "the pods mount an API token for service account '" + sa +
                "', which no role binding in the input grants anything: set "
                "automountServiceAccountToken: false");
  }
}

const Rule kAutomountServiceAccountToken{
    "automount-service-account-token",
    "pod-security",
    "No API token where the pod does not use the API",
    Severity::Medium,
    "CIS 5.1.6",
    "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
    "A pod whose service account no role binding grants anything does not call the API, yet "
    "by default it gets a token an attacker can use.",
    "Set automountServiceAccountToken: false on the pod spec or its ServiceAccount.",
    &service_account_token};

}  // namespace

std::vector<Rule> pod_security_rules() {
  return {kRunAsNonRoot,
          kNoPrivilegeEscalation,
          kNotPrivileged,
          kDropAllCapabilities,
          kNoDangerousCapabilities,
          kReadOnlyRootFilesystem,
          kSeccompProfile,
          kNoHostNamespaces,
          kNoHostPath,
          kAutomountServiceAccountToken};
}

}  // namespace kgate::audit
