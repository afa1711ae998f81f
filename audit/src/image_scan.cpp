#include "kgate/audit/image_scan.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "kgate/audit/object.hpp"

namespace kgate::audit {
namespace {

using nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string join(const json& list) {
  std::string out;
  if (list.is_array())
    for (const auto& v : list)
      if (v.is_string()) out += (out.empty() ? "" : ", ") + v.get<std::string>();
  return out;
}

void add_ref(ImageScan& s, const std::string& ref) {
  if (ref.empty()) return;
  std::string n = normalize_image(ref);
  if (std::find(s.references.begin(), s.references.end(), n) == s.references.end())
    s.references.push_back(n);
}

ImageScan from_trivy(const json& j, const std::string& file) {
  ImageScan s;
  s.file = file;
  s.format = "trivy";
  s.image = j.value("ArtifactName", "");
  add_ref(s, s.image);
  if (const auto* md = j.contains("Metadata") ? &j["Metadata"] : nullptr) {
    for (const char* key : {"RepoTags", "RepoDigests"})
      if (md->contains(key) && (*md)[key].is_array())
        for (const auto& r : (*md)[key])
          if (r.is_string()) add_ref(s, r.get<std::string>());
  }
  if (j.contains("Results") && j["Results"].is_array())
    for (const auto& r : j["Results"]) {
      if (!r.contains("Vulnerabilities") || !r["Vulnerabilities"].is_array()) continue;
      for (const auto& v : r["Vulnerabilities"])
        s.vulnerabilities.push_back({v.value("VulnerabilityID", ""), v.value("PkgName", ""),
                                     v.value("InstalledVersion", ""), v.value("FixedVersion", ""),
                                     lower(v.value("Severity", "unknown"))});
    }
  return s;
}

ImageScan from_grype(const json& j, const std::string& file) {
  ImageScan s;
  s.file = file;
  s.format = "grype";
  const json& target = j["source"].value("target", json::object());
  if (target.is_object()) {
    s.image = target.value("userInput", "");
    add_ref(s, s.image);
    for (const char* key : {"tags", "repoDigests"})
      if (target.contains(key) && target[key].is_array())
        for (const auto& r : target[key])
          if (r.is_string()) add_ref(s, r.get<std::string>());
  } else if (target.is_string()) {
    s.image = target.get<std::string>();
    add_ref(s, s.image);
  }
  for (const auto& m : j["matches"]) {
    const json& v = m.value("vulnerability", json::object());
    const json& a = m.value("artifact", json::object());
    const json fix = v.value("fix", json::object());
    std::string fixed =
        fix.value("state", "") == "fixed" ? join(fix.value("versions", json::array())) : "";
    s.vulnerabilities.push_back({v.value("id", ""), a.value("name", ""), a.value("version", ""),
                                 fixed, lower(v.value("severity", "unknown"))});
  }
  return s;
}

}  // namespace

ImageScan load_image_scan(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("--image-scan " + path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::parse_error& e) {
    throw InputError("--image-scan " + path + ": not JSON (byte " + std::to_string(e.byte) +
                     "): " + e.what());
  }
  try {
    if (j.is_object() && j.contains("SchemaVersion") && j.contains("ArtifactName"))
      return from_trivy(j, path);
    if (j.is_object() && j.contains("matches") && j["matches"].is_array() && j.contains("source"))
      return from_grype(j, path);
  } catch (const json::exception& e) {
    throw InputError("--image-scan " + path + ": unexpected report structure: " + e.what());
  }
  throw InputError("--image-scan " + path +
                   ": neither a Trivy report (SchemaVersion, ArtifactName) nor a Grype report "
                   "(matches, source)");
}

std::string normalize_image(const std::string& ref) {
  std::string name = ref, digest, tag;
  if (auto at = name.find('@'); at != std::string::npos) {
    digest = name.substr(at);
    name = name.substr(0, at);
  }
  auto slash = name.rfind('/');
  auto colon = name.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = name.substr(colon);
    name = name.substr(0, colon);
  }
  // A first component with '.' or ':' (or localhost) is a registry; else Docker Hub.
  auto first = name.find('/');
  std::string head = first == std::string::npos ? "" : name.substr(0, first);
  bool registry = !head.empty() && (head.find('.') != std::string::npos ||
                                    head.find(':') != std::string::npos || head == "localhost");
  if (!registry) name = "docker.io/" + (first == std::string::npos ? "library/" + name : name);
  if (name.rfind("index.docker.io/", 0) == 0) name = "docker.io/" + name.substr(16);
  if (tag.empty() && digest.empty()) tag = ":latest";
  return name + tag + digest;
}

bool image_matches(const ImageScan& scan, const std::string& image) {
  if (image.empty()) return false;
  // repository (no tag, no digest) and digest of a normalised reference.
  auto parts = [](const std::string& s) {
    std::string name = s, digest;
    if (auto at = name.find('@'); at != std::string::npos) {
      digest = name.substr(at + 1);
      name = name.substr(0, at);
    }
    auto slash = name.rfind('/');
    auto colon = name.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
      name = name.substr(0, colon);
    return std::pair{name, digest};
  };
  std::string n = normalize_image(image);
  auto [repo, digest] = parts(n);
  for (const auto& r : scan.references) {
    if (r == n || r == n.substr(0, n.find('@'))) return true;
    // A pod pinned by digest matches the report's digest of the same repository.
    auto [rrepo, rdigest] = parts(r);
    if (!digest.empty() && digest == rdigest && repo == rrepo) return true;
  }
  return false;
}

}  // namespace kgate::audit
