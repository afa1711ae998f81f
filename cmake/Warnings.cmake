# Project-wide compile flags: warnings (as errors in CI) and the sanitizer build.
add_library(kgate_flags INTERFACE)
# -Wno-missing-field-initializers: checks and suites are declared with C++20 designated
# initializers ({.title = ..., .severity = ...}) whose omitted fields take their defaults on
# purpose; GCC 12 warns about every omitted one.
target_compile_options(kgate_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized> -Wno-missing-field-initializers)
if(KGATE_WERROR)
  target_compile_options(kgate_flags INTERFACE -Werror)
endif()
# Beast/Asio: no deprecated names, one separately compiled Asio instance per binary is not used
# (header-only) but we keep Beast out of widely included headers to bound build time.
# No BOOST_BEAST_USE_STD_STRING_VIEW: since Boost 1.81 beast::string_view is
# boost::core::string_view, which converts to and from std::string_view by itself, and the old
# macro only prints a deprecation message in every Beast translation unit.
target_compile_definitions(kgate_flags INTERFACE BOOST_ASIO_NO_DEPRECATED)
if(KGATE_SANITIZE)
  target_compile_options(kgate_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(kgate_flags INTERFACE -fsanitize=address,undefined)
endif()
# The fuzz build (clang): every library gets libFuzzer's coverage instrumentation and the
# sanitizers, so that the fuzzer sees and checks kgate's code, not only the target's.
if(KGATE_FUZZ)
  target_compile_options(kgate_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(kgate_flags INTERFACE -fsanitize=address,undefined)
endif()
