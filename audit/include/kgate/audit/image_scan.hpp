#pragma once
// Image-scan reports (Trivy and Grype JSON) as one model, and image references normalised so a
// report for "postgres:16.4" matches a pod's "docker.io/library/postgres:16.4".
#include <string>
#include <vector>

namespace kgate::audit {

struct Vulnerability {
  std::string id;         // CVE-2024-1234, GHSA-...
  std::string package;    // the package name
  std::string installed;  // installed version
  std::string fixed;      // the fixed version(s); empty when there is no fix
  std::string severity;   // lower case: critical, high, medium, low, unknown
};

struct ImageScan {
  std::string file;                     // the report's path
  std::string format;                   // "trivy" or "grype"
  std::string image;                    // what was scanned, as the report names it
  std::vector<std::string> references;  // every name of it: tags and repo digests, normalised
  std::vector<Vulnerability> vulnerabilities;
};

// Reads a Trivy (`trivy image -f json`) or Grype (`grype -o json`) report. Throws InputError
// naming the file (and the JSON error's byte offset, or the missing key).
ImageScan load_image_scan(const std::string& path);

// "postgres:16" -> "docker.io/library/postgres:16"; no tag and no digest -> ":latest";
// "repo@sha256:..." keeps the digest; "repo:tag@sha256:..." -> both kept as given.
std::string normalize_image(const std::string& ref);
// True when the pod's image reference names the scanned image (by tag or by digest).
bool image_matches(const ImageScan& scan, const std::string& image);

}  // namespace kgate::audit
