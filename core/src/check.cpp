#include "kgate/check.hpp"

#include <atomic>
#include <cstdio>

#include "kgate/url.hpp"

namespace kgate {
namespace {
std::atomic<int> g_signals{0};
}

bool interrupted() {
  return g_signals.load() > 0;
}
int note_interrupt() {
  return g_signals.fetch_add(1);
}

void Check::SetUp() {
  if (interrupted()) GTEST_SKIP() << "run interrupted before this check started";
}

void Check::TearDown() {
  ctx().run_cleanups();
}

void Check::property(const std::string& name, const std::string& value) {
  ctx().check().properties.push_back({name, value});
}

void Check::property(const std::string& name, double value, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f%s", value, unit);
  property(name, std::string(buf));
}

TodoApi Check::api(const Identity& who, const std::string& base) {
  return TodoApi(ctx(), base.empty() ? config().target.backend : base, who);
}

}  // namespace kgate
