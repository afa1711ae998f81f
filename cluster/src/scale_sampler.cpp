#include "kgate/cluster/scale_sampler.hpp"

#include <cmath>
#include <exception>

#include "kgate/cluster/objects.hpp"
#include "kgate/kube/client.hpp"
#include "kgate/url.hpp"

namespace kgate::cluster {

using nlohmann::json;
namespace res = kube::resources;

std::optional<double> parse_cpu(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string suffix = text.substr(used);
  static const std::map<std::string, double> scale = {{"", 1},     {"n", 1e-9},  {"u", 1e-6},
                                                      {"m", 1e-3}, {"k", 1e3},   {"M", 1e6},
                                                      {"G", 1e9},  {"Ki", 1024}, {"Mi", 1048576}};
  auto it = scale.find(suffix);
  if (it == scale.end() || v < 0) return std::nullopt;
  return v * it->second;
}

int wanted_replicas(int current, double utilization, double target, double tolerance) {
  if (current <= 0 || target <= 0) return current;
  const double ratio = utilization / target;
  if (std::fabs(ratio - 1.0) <= tolerance) return current;
  return static_cast<int>(std::ceil(ratio * current));
}

std::vector<json> counted_containers(const json& pod) {
  std::vector<json> out;
  const json spec = pod.value("spec", json::object());
  for (const auto& c : spec.value("containers", json::array())) out.push_back(c);
  for (const auto& c : spec.value("initContainers", json::array()))
    if (c.value("restartPolicy", "") == "Always") out.push_back(c);
  return out;
}

std::optional<double> cpu_request(const json& container) {
  const json r = container.value("resources", json::object()).value("requests", json::object());
  if (!r.contains("cpu") || !r["cpu"].is_string()) return std::nullopt;
  return parse_cpu(r["cpu"].get<std::string>());
}

bool pod_live(const json& pod) {
  const std::string phase = pod.value("status", json::object()).value("phase", "");
  return !pod_terminating(pod) && phase != "Succeeded" && phase != "Failed";
}

json status_condition(const json& object, const std::string& type) {
  const json st = object.value("status", json::object());
  for (const auto& c : st.value("conditions", json::array()))
    if (c.value("type", "") == type) return c;
  return nullptr;
}

double hpa_cpu_target(const json& hpa_spec) {
  for (const auto& m : hpa_spec.value("metrics", json::array())) {
    const json r = m.value("resource", json::object());
    const json t = r.value("target", json::object());
    if (m.value("type", "") == "Resource" && r.value("name", "") == "cpu" &&
        t.value("type", "") == "Utilization")
      return t.value("averageUtilization", 0.0);
  }
  return 0;
}

ScaleTarget find_scale_target(kube::Client& client, const std::string& ns,
                              const std::string& name) {
  ScaleTarget t;
  t.ns = ns;
  t.deployment = name;
  const json d = client.get(res::deployments, ns, name);
  t.selector = d.value("spec", json::object()).value("selector", json::object());
  t.min_replicas = t.max_replicas = desired_replicas(d);
  const json hpas = client.list(res::horizontal_pod_autoscalers, ns);
  for (const auto& h : hpas.value("items", json::array())) {
    const json spec = h.value("spec", json::object());
    const json ref = spec.value("scaleTargetRef", json::object());
    if (ref.value("kind", "") != "Deployment" || ref.value("name", "") != name) continue;
    t.hpa = name_of(h);
    t.target_cpu = hpa_cpu_target(spec);
    t.min_replicas = spec.value("minReplicas", 1);
    t.max_replicas = spec.value("maxReplicas", 1);
    break;  // two HPAs on one Deployment fight each other; the first is the one shown
  }
  return t;
}

ScaleSampler::ScaleSampler(kube::Client& client, ScaleTarget target)
    : client_(client), target_(std::move(target)) {}

ScaleSample ScaleSampler::sample(double t, const json* deployment,
                                 const std::atomic<bool>* cancel) const {
  ScaleSample s;
  s.t = t;
  auto cancelled = [cancel] { return cancel && cancel->load(); };
  auto note = [&s](const std::string& what, const std::exception& e) {
    if (s.error.empty()) s.error = what + ": " + e.what();
  };
  const std::string& ns = target_.ns;
  if (!target_.hpa.empty()) {
    try {
      const json h = client_.get(res::horizontal_pod_autoscalers, ns, target_.hpa);
      const json st = h.value("status", json::object());
      s.hpa_current = st.value("currentReplicas", 0);
      s.hpa_desired = st.value("desiredReplicas", 0);
      for (const auto& m : st.value("currentMetrics", json::array())) {
        const json r = m.value("resource", json::object());
        if (m.value("type", "") == "Resource" && r.value("name", "") == "cpu") {
          const json cur = r.value("current", json::object());
          if (cur.contains("averageUtilization") && cur["averageUtilization"].is_number())
            s.hpa_cpu = cur["averageUtilization"].get<double>();
        }
      }
      if (s.hpa_cpu && target_.target_cpu > 0)
        s.wanted =
            wanted_replicas(s.hpa_current, *s.hpa_cpu, target_.target_cpu, target_.tolerance);
      // Limited at the top only: at rest the HPA reports TooFewReplicas (wanting less than
      // minReplicas), which is no limit on a scale-up.
      const json lim = status_condition(h, "ScalingLimited");
      if (!lim.is_null() && lim.value("status", "") == "True" &&
          lim.value("reason", "") == "TooManyReplicas")
        s.limited = lim.value("reason", "") + ": " + lim.value("message", "");
    } catch (const std::exception& e) {
      note("hpa/" + target_.hpa, e);
    }
  }
  if (cancelled()) return s;
  try {
    if (deployment) {
      if (!deployment->is_null()) s.spec_replicas = desired_replicas(*deployment);
    } else {
      s.spec_replicas = desired_replicas(client_.get(res::deployments, ns, target_.deployment));
    }
  } catch (const std::exception& e) {
    note("deployment/" + target_.deployment, e);
  }
  if (cancelled()) return s;
  // The live pods with their requests, and their CPU from the metrics API.
  try {
    kube::ListOptions lo;
    lo.label_selector = selector_text(target_.selector);
    const json list = client_.list(res::pods, ns, lo);
    s.pods_read = true;
    double usage_sum = 0, request_sum = 0;
    for (const auto& p : list.value("items", json::array())) {
      if (!pod_live(p)) continue;
      ++s.live;
      if (pod_ready(p)) ++s.ready;
      const std::string name = name_of(p);
      double request = 0;
      bool all = true;
      for (const auto& c : counted_containers(p)) {
        auto r = cpu_request(c);
        if (r)
          request += *r;
        else
          all = false;
      }
      if (cancelled()) return s;
      try {
        const json m =
            client_.raw_get("/apis/metrics.k8s.io/v1beta1/namespaces/" + url_encode_segment(ns) +
                            "/pods/" + url_encode_segment(name));
        double usage = 0;
        for (const auto& c : m.value("containers", json::array()))
          usage += parse_cpu(c.value("usage", json::object()).value("cpu", "0")).value_or(0);
        if (all && request > 0) {
          s.pod_cpu[name] = 100.0 * usage / request;
          usage_sum += usage;
          request_sum += request;
        }
      } catch (const std::exception&) {
        s.no_metrics.push_back(name);  // a new pod has none for its first seconds: not an error
      }
    }
    if (request_sum > 0) s.avg_cpu = 100.0 * usage_sum / request_sum;
  } catch (const std::exception& e) {
    note("pods of deployment/" + target_.deployment, e);
  }
  if (s.wanted < 0 && s.avg_cpu && target_.target_cpu > 0 && s.live > 0)
    s.wanted = wanted_replicas(s.live, *s.avg_cpu, target_.target_cpu, target_.tolerance);
  return s;
}

}  // namespace kgate::cluster
