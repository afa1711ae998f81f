// The versions a release manager signs off: which images and which chart the cluster runs.
#include <algorithm>
#include <string>
#include <vector>

#include "kgate/cluster_client.hpp"
#include "kgate/criteria.hpp"
#include "kgate/http.hpp"
#include "kgate/kube/client.hpp"
#include "kgate/redact.hpp"

namespace kgate {

void add_cluster_versions(const KubernetesConfig& k, SignOff& signoff) {
  if (!k.configured) {
    signoff.versions_note = "app versions unknown: no kubernetes: section in the configuration";
    return;
  }
  try {
    ClusterClient cluster = cluster_client(k, 1);  // a sign-off detail is not worth a long wait
    const std::string& ns = cluster.namespace_;
    kube::Client& client = *cluster.client;
    std::vector<kube::json> deployments;
    std::string looked_for;
    if (!k.release.empty()) {
      kube::ListOptions opts;
      opts.label_selector = "app.kubernetes.io/instance=" + k.release;
      looked_for = "Deployments labelled " + opts.label_selector;
      // Held in a local: a range-for over a member of the temporary would dangle (pre-C++23).
      const kube::json list = client.list(kube::resources::deployments, ns, opts);
      for (const auto& d : list["items"]) deployments.push_back(d);
    } else {
      looked_for = "Deployments " + k.backend_deployment +
                   (k.frontend_deployment.empty() ? "" : ", " + k.frontend_deployment);
      for (const auto& name : {k.backend_deployment, k.frontend_deployment})
        if (!name.empty())
          if (auto d = client.find(kube::resources::deployments, ns, name))
            deployments.push_back(*d);
    }
    if (deployments.empty()) {
      signoff.versions_note = "app versions unknown: no " + looked_for + " in namespace " + ns;
      return;
    }
    std::vector<std::string> charts, app_versions;
    for (const auto& d : deployments) {
      const std::string name = d["metadata"].value("name", "?");
      const auto labels = d["metadata"].value("labels", kube::json::object());
      if (auto c = labels.value("helm.sh/chart", "");
          !c.empty() && std::find(charts.begin(), charts.end(), c) == charts.end())
        charts.push_back(c);
      if (auto v = labels.value("app.kubernetes.io/version", "");
          !v.empty() &&
          std::find(app_versions.begin(), app_versions.end(), v) == app_versions.end())
        app_versions.push_back(v);
      const auto containers = d.value("spec", kube::json::object())
                                  .value("template", kube::json::object())
                                  .value("spec", kube::json::object())
                                  .value("containers", kube::json::array());
      for (const auto& c : containers)
        signoff.versions.push_back(
            {"image " + ns + "/" + name + " " + c.value("name", "?"), c.value("image", "?")});
    }
    for (const auto& c : charts) signoff.versions.push_back({"chart", c});
    for (const auto& v : app_versions) signoff.versions.push_back({"app version", v});
  } catch (const std::exception& e) {
    signoff.versions_note = "app versions unknown: " + redact(e.what());
  }
}

}  // namespace kgate
