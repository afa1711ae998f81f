// The image-scan gate: Trivy and Grype reports matched to the images the pods run.
#include <map>
#include <set>

#include "../model.hpp"
#include "groups.hpp"

namespace kgate::audit {
namespace {

int rank(const std::string& s) {
  auto sev = parse_severity(s);
  return sev ? static_cast<int>(*sev) : -1;
}

// Digests live pods report for each image they run (status.containerStatuses[].imageID), so a
// report made for a digest matches a pod that names the image by tag.
std::map<std::string, std::set<std::string>> live_image_ids(const Objects& objects) {
  std::map<std::string, std::set<std::string>> out;
  for (const Object* pod : of_kind(objects, "Pod"))
    for (const char* list : {"/status/containerStatuses", "/status/initContainerStatuses"})
      if (const json* st = pod->at(list); st && st->is_array())
        for (const auto& s : *st) {
          std::string id = s.value("imageID", "");
          if (auto p = id.find("://"); p != std::string::npos) id = id.substr(p + 3);
          if (!id.empty()) out[s.value("image", "")].insert(id);
        }
  return out;
}

bool uses(const ImageScan& scan, const std::string& image,
          const std::map<std::string, std::set<std::string>>& ids) {
  if (image_matches(scan, image)) return true;
  if (auto it = ids.find(image); it != ids.end())
    for (const auto& id : it->second)
      if (image_matches(scan, id)) return true;
  return false;
}

void image_vulnerabilities(const Inputs& in, Findings& f) {
  auto ids = live_image_ids(in.objects);
  auto specs = pod_specs(in.objects);
  for (const auto& scan : in.scans) {
    std::vector<const Vulnerability*> fixable;
    for (const auto& v : scan.vulnerabilities)
      if (!v.fixed.empty() && rank(v.severity) >= static_cast<int>(in.image_severity))
        fixable.push_back(&v);
    for (const auto& p : specs)
      for (const auto& c : p.containers(true)) {
        std::string image = get_string(*c.body, {"image"});
        if (!uses(scan, image, ids)) continue;
        f.inspected();
        if (fixable.empty()) continue;
        std::string list;
        for (std::size_t i = 0; i < fixable.size() && i < 5; ++i)
          list += (i ? "; " : "") + fixable[i]->id + " (" + fixable[i]->severity + ") in " +
                  fixable[i]->package + " " + fixable[i]->installed + ", fixed in " +
                  fixable[i]->fixed;
        if (fixable.size() > 5) list += "; and " + std::to_string(fixable.size() - 5) + " more";
        f.add(*p.object, c.pointer + "/image",
              p.describe(c) + " runs " + image + ", which " + scan.file + " (" + scan.format +
                  ") finds " + std::to_string(fixable.size()) + " fixable vulnerabilit" +
                  (fixable.size() == 1 ? "y" : "ies") + " at or above " +
                  to_string(in.image_severity) + ": " + list);
      }
  }
}

// The rule, as data, beside its check.
const Rule kImageVulnerabilities{
    "image-vulnerabilities",
    "images",
    "No fixable vulnerabilities at the gate's severity",
    Severity::Critical,
    "Trivy / Grype findings; CIS 5.5.1 (image provenance)",
    "https://kubernetes.io/docs/concepts/security/supply-chain-security/",
    "Imports Trivy and Grype JSON reports (--image-scan) and fails on vulnerabilities at or "
    "above --image-severity (default critical) that have a fixed version, in images the "
    "manifests or the live pods run.",
    "Rebuild the image on the fixed package versions (or a newer base image).",
    &image_vulnerabilities};

void image_scan_unmatched(const Inputs& in, Findings& f) {
  auto ids = live_image_ids(in.objects);
  auto specs = pod_specs(in.objects);
  std::set<std::string> images;
  for (const auto& p : specs)
    for (const auto& c : p.containers(true)) images.insert(get_string(*c.body, {"image"}));
  for (const auto& scan : in.scans) {
    f.inspected();
    bool matched = false;
    for (const auto& image : images) matched = matched || uses(scan, image, ids);
    if (matched) continue;
    std::string list;
    for (const auto& i : images) list += (list.empty() ? "" : ", ") + i;
    f.add_input(scan.file, "the " + scan.format + " report for " + scan.image +
                               " matches no image the input runs (" +
                               (list.empty() ? "none" : list) + "): it gates nothing");
  }
}

const Rule kImageScanUnmatched{
    "image-scan-unmatched",
    "images",
    "Every image-scan report matches a running image",
    Severity::Info,
    "kgate",
    "",
    "A report for an image nothing runs gates nothing: usually a tag or registry mismatch "
    "between the scan and the manifests.",
    "Scan the exact image reference the manifests use (or its digest).",
    &image_scan_unmatched};

}  // namespace

std::vector<Rule> image_rules() {
  return {kImageVulnerabilities, kImageScanUnmatched};
}

}  // namespace kgate::audit
