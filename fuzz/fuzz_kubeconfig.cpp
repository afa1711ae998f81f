// kubeconfig files as kubectl reads them (kube/config), from text. Property: a kubeconfig is
// either resolved to a cluster or refused with a ConfigError that names the file; nothing else
// escapes. Relative paths resolve under a directory that does not exist, so nothing of the
// machine's is read.
#include "fuzz_common.hpp"
#include "kgate/kube/config.hpp"
#include "kgate/redact.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz_text(data, size);
  for (const char* context : {"", "fuzz"}) {
    try {
      kgate::kube::parse_kubeconfig(text, "/nonexistent/kgate-fuzz/config", context);
    } catch (const kgate::kube::ConfigError& e) {
      FUZZ_ASSERT(std::string(e.what()).find("/nonexistent/kgate-fuzz/config") !=
                  std::string::npos);
    }
  }
  kgate::clear_secrets();  // tokens and keys are registered; the list must not grow per input
  return 0;
}
