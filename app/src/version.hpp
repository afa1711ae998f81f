#pragma once

namespace todo {
// The one place the app's version lives: /health reports it and --version prints it.
inline constexpr const char* kVersion = "1.0.0";
}  // namespace todo
