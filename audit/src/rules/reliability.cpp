// Reliability: resources, probes (and that they probe a port the container has), image
// references, rolling updates that keep serving, and shutdown time that covers preStop.
#include <regex>

#include "../model.hpp"
#include "groups.hpp"

namespace kgate::audit {
namespace {

constexpr const char* kResourcesUri =
    "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/";
constexpr const char* kProbesUri =
    "https://kubernetes.io/docs/tasks/configure-pod-container/"
    "configure-liveness-readiness-startup-probes/";

bool has(const json& c, std::initializer_list<const char*> path) {
  const json* v = get(c, path);
  return v && !v->is_null() && !(v->is_string() && v->get<std::string>().empty());
}

void resource_requests(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      std::string missing;
      for (const char* r : {"cpu", "memory"})
        if (!has(*c.body, {"resources", "requests", r}))
          missing += std::string(missing.empty() ? "" : " and ") + r;
      if (!missing.empty())
        f.add(*p.object, get(*c.body, {"resources"}) ? c.pointer + "/resources" : c.pointer,
              p.describe(c) + " has no " + missing + " request");
    }
}

// The rule, as data, beside its check.
const Rule kResourceRequests{
    "resource-requests",
    "reliability",
    "Containers request CPU and memory",
    Severity::Medium,
    "kube-score container-resources; Polaris cpuRequestsMissing, memoryRequestsMissing",
    kResourcesUri,
    "Without requests the scheduler places pods blindly and the HPA cannot compute "
    "utilisation.",
    "Set resources.requests.cpu and resources.requests.memory on every container.",
    &resource_requests};

void memory_limit(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      if (!has(*c.body, {"resources", "limits", "memory"}))
        f.add(*p.object, get(*c.body, {"resources"}) ? c.pointer + "/resources" : c.pointer,
              p.describe(c) + " has no memory limit");
    }
}

const Rule kMemoryLimit{
    "memory-limit",
    "reliability",
    "Containers have a memory limit",
    Severity::Medium,
    "kube-score container-resources; Polaris memoryLimitsMissing",
    kResourcesUri,
    "A container without a memory limit can take the node's memory and get its neighbours "
    "killed.",
    "Set resources.limits.memory on every container.",
    &memory_limit};

void probe_present(const Inputs& in, Findings& f, const char* probe, const char* what) {
  for (const auto& p : pod_specs(in.objects)) {
    if (!p.long_running) continue;
    for (const auto& c : p.containers(false)) {
      f.inspected();
      if (!get(*c.body, {probe}))
        f.add(*p.object, c.pointer, p.describe(c) + " has no " + probe + " (" + what + ")");
    }
  }
}

void readiness_probe(const Inputs& in, Findings& f) {
  probe_present(in, f, "readinessProbe", "traffic reaches it before it can serve");
}

const Rule kReadinessProbe{
    "readiness-probe",
    "reliability",
    "Long-running containers have a readiness probe",
    Severity::Medium,
    "kube-score pod-probes; Polaris readinessProbeMissing",
    kProbesUri,
    "Without a readiness probe a pod receives traffic as soon as its process starts, and "
    "keeps receiving it while it cannot serve.",
    "Add a readinessProbe that answers only when the container can serve.",
    &readiness_probe};
void liveness_probe(const Inputs& in, Findings& f) {
  probe_present(in, f, "livenessProbe", "a hung process is never restarted");
}

const Rule kLivenessProbe{
    "liveness-probe",
    "reliability",
    "Long-running containers have a liveness probe",
    Severity::Medium,
    "kube-score pod-probes; Polaris livenessProbeMissing",
    kProbesUri,
    "Without a liveness probe a deadlocked process is never restarted.",
    "Add a livenessProbe (cheaper and more tolerant than the readiness probe).",
    &liveness_probe};

void probe_ports(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      const json* ports = get(*c.body, {"ports"});
      auto declared = [&](const json& port) {
        if (!ports || !ports->is_array()) return false;
        for (const auto& cp : *ports) {
          if (port.is_string() && cp.value("name", "") == port.get<std::string>()) return true;
          if (port.is_number_integer() && cp.contains("containerPort") &&
              cp["containerPort"] == port)
            return true;
        }
        return false;
      };
      for (const char* probe : {"startupProbe", "readinessProbe", "livenessProbe"})
        for (const char* handler : {"httpGet", "tcpSocket", "grpc"}) {
          const json* port = get(*c.body, {probe, handler, "port"});
          if (!port) continue;
          f.inspected();
          if (declared(*port)) continue;
          std::string shown =
              port->is_string() ? "'" + port->get<std::string>() + "'" : port->dump();
          std::string has_ports;
          if (ports && ports->is_array() && !ports->empty()) {
            for (const auto& cp : *ports) {
              has_ports += has_ports.empty() ? "" : ", ";
              has_ports += cp.contains("containerPort") ? cp["containerPort"].dump() : "?";
              if (cp.contains("name")) has_ports += " (" + cp.value("name", "") + ")";
            }
          } else {
            has_ports = "none";
          }
          f.add(*p.object, c.pointer + "/" + probe + "/" + handler + "/port",
                p.describe(c) + "'s " + probe + " probes port " + shown +
                    ", which the container does not declare (its ports: " + has_ports + ")");
        }
    }
}

const Rule kProbePortExists{
    "probe-port-exists",
    "reliability",
    "Probes target a port the container declares",
    Severity::High,
    "kgate (no peer check)",
    kProbesUri,
    "A probe on a port the container does not listen on fails forever: the pod never becomes "
    "ready or is restarted in a loop (a probe on 8000 for an app listening on 7860).",
    "Point httpGet/tcpSocket/grpc .port at a declared containerPort, preferably by name.",
    &probe_ports};

// name[:tag][@digest] split; the tag is after the last ':' that follows the last '/'.
struct ImageRef {
  std::string tag, digest;
};
ImageRef split_image(const std::string& image) {
  ImageRef r;
  std::string rest = image;
  if (auto at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    r.tag = rest.substr(colon + 1);
  return r;
}

void image_tag(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      std::string image = get_string(*c.body, {"image"});
      auto ref = split_image(image);
      if (image.empty())
        f.add(*p.object, c.pointer, p.describe(c) + " names no image");
      else if (ref.digest.empty() && (ref.tag.empty() || ref.tag == "latest"))
        f.add(*p.object, c.pointer + "/image",
              p.describe(c) + " uses image " + image +
                  (ref.tag.empty() ? " without a tag (that is :latest)" : "") +
                  ": which build runs changes under the same manifest");
    }
}

const Rule kImageTag{
    "image-tag",
    "reliability",
    "Images have a pinned tag",
    Severity::High,
    "kube-score container-image-tag; Polaris tagNotSpecified",
    "https://kubernetes.io/docs/concepts/containers/images/#image-names",
    "An image without a tag, or tagged latest, runs whichever build the registry serves at "
    "pull time: two pods of one Deployment may run different code.",
    "Use an immutable version tag (or a digest).",
    &image_tag};

void image_digest(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects))
    for (const auto& c : p.containers(true)) {
      f.inspected();
      std::string image = get_string(*c.body, {"image"});
      if (!image.empty() && split_image(image).digest.empty())
        f.add(*p.object, c.pointer + "/image",
              p.describe(c) + " uses image " + image +
                  " by tag, not by digest: a tag can be moved to another build");
    }
}

const Rule kImageDigest{"image-digest",
                        "reliability",
                        "Images are pinned by digest",
                        Severity::Low,
                        "SLSA/supply-chain practice; kube-linter latest-tag (stricter variant)",
                        "https://kubernetes.io/docs/concepts/containers/images/#image-names",
                        "A tag can be moved to another build; a digest (image@sha256:...) cannot.",
                        "Reference images as repository:tag@sha256:<digest>.",
                        &image_digest};

void rolling_update(const Inputs& in, Findings& f) {
  for (const Object* d : of_kind(in.objects, "Deployment")) {
    f.inspected();
    std::string type = get_string(d->body, {"spec", "strategy", "type"});
    if (type == "Recreate") {
      f.add(*d, "/spec/strategy/type",
            "strategy Recreate stops every pod before the new ones start: each rollout is an "
            "outage");
      continue;
    }
    int replicas = min_replicas(in.objects, *d);
    const json* mu = d->at("/spec/strategy/rollingUpdate/maxUnavailable");
    int max_unavailable = mu ? int_or_percent(*mu, replicas, false, 0) : replicas / 4;
    if (replicas >= 1 && max_unavailable >= replicas)
      f.add(*d, mu ? "/spec/strategy/rollingUpdate/maxUnavailable" : "/spec/strategy",
            "with " + std::to_string(replicas) + " replica(s) " +
                (hpa_for(in.objects, *d) ? "(the HPA's minReplicas) " : "") +
                "and maxUnavailable " + (mu ? mu->dump() : std::string("25%")) +
                " a rollout may take every pod down at once: set maxUnavailable: 0 (and maxSurge "
                ">= 1)");
  }
}

const Rule kRollingUpdate{
    "rolling-update",
    "reliability",
    "Rollouts keep pods serving",
    Severity::Medium,
    "kube-score deployment-strategy",
    "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/"
    "#rolling-update-deployment",
    "A Recreate strategy, or maxUnavailable equal to the replica count (a single replica "
    "with maxUnavailable 1), takes every pod down during a rollout.",
    "Use RollingUpdate with maxUnavailable: 0 and maxSurge: 1 (or more replicas).",
    &rolling_update};

// Seconds a preStop hook sleeps: the sleep action, or an exec of `sleep N`. -1 when unknown.
double prestop_sleep(const json& c) {
  if (const json* s = get(c, {"lifecycle", "preStop", "sleep", "seconds"}); s && s->is_number())
    return s->get<double>();
  const json* cmd = get(c, {"lifecycle", "preStop", "exec", "command"});
  if (!cmd || !cmd->is_array()) return -1;
  std::string line;
  for (const auto& a : *cmd) line += (a.is_string() ? a.get<std::string>() : a.dump()) + " ";
  static const std::regex sleep_re(R"((^|[\s;&|/])sleep\s+([0-9]+(\.[0-9]+)?)s?(\s|;|$))");
  std::smatch m;
  if (std::regex_search(line, m, sleep_re)) return std::stod(m[2]);
  return -1;
}

void graceful_termination(const Inputs& in, Findings& f) {
  for (const auto& p : pod_specs(in.objects)) {
    if (!p.long_running) continue;
    f.inspected();
    const json* g = get(*p.spec, {"terminationGracePeriodSeconds"});
    double grace = g && g->is_number() ? g->get<double>() : 30;
    for (const auto& c : p.containers(false)) {
      double sleep = prestop_sleep(*c.body);
      if (sleep < 0 || sleep < grace) continue;
      f.add(*p.object, c.pointer + "/lifecycle/preStop",
            p.describe(c) + "'s preStop sleeps " + std::to_string(static_cast<int>(sleep)) +
                " s but terminationGracePeriodSeconds is " +
                std::to_string(static_cast<int>(grace)) +
                ": the container is killed before it gets SIGTERM and can drain");
    }
  }
}

const Rule kGracefulTermination{
    "graceful-termination",
    "reliability",
    "The grace period covers preStop",
    Severity::Medium,
    "kgate (no peer check)",
    "https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/",
    "terminationGracePeriodSeconds counts from the start of preStop: a preStop sleep as long "
    "as the grace period leaves no time for the app's own shutdown, and it is killed.",
    "Make terminationGracePeriodSeconds longer than the preStop sleep plus the app's drain "
    "time.",
    &graceful_termination};

}  // namespace

std::vector<Rule> reliability_rules() {
  return {kResourceRequests, kMemoryLimit, kReadinessProbe, kLivenessProbe,      kProbePortExists,
          kImageTag,         kImageDigest, kRollingUpdate,  kGracefulTermination};
}

}  // namespace kgate::audit
