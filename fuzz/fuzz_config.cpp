// kgate.yaml (core/config): the whole schema-checked loader, interpolation included. Property:
// a config is either read or refused with a ConfigError that names the place
// ("fuzz.yaml:line:column: ..."); nothing else escapes.
#include <cstdlib>

#include "fuzz_common.hpp"
#include "kgate/config.hpp"
#include "kgate/redact.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool env = [] {
    ::setenv("KGATE_FUZZ_VAR", "http://127.0.0.1:7860", 1);  // for ${KGATE_FUZZ_VAR}
    return true;
  }();
  (void)env;
  try {
    kgate::parse_config(fuzz_text(data, size), "fuzz.yaml");
  } catch (const kgate::ConfigError& e) {
    FUZZ_ASSERT(std::string(e.what()).rfind("fuzz.yaml", 0) == 0);
  }
  kgate::clear_secrets();  // the loader registers secrets; the list must not grow per input
  return 0;
}
