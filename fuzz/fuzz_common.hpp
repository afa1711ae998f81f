#pragma once
// Shared by the fuzz targets: libFuzzer's entry point and a way to turn its bytes into text.
#include <cstddef>
#include <cstdint>
#include <string>

// What a target's input is: libFuzzer's bytes as one string (any bytes, NUL included).
inline std::string fuzz_text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A property that must hold for every input: a violated one is a finding, reported as a crash.
#define FUZZ_ASSERT(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      __builtin_printf("FUZZ_ASSERT failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                                \
    }                                                                                  \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
