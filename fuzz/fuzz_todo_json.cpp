// The todo API's JSON answers as kgate reads them (core/todo_api): a task list (a bare array or
// under profile.list_field) and task ids in the profile's format (integer, uuid, any).
// Property: any answer, however malformed or wrongly typed, is "not what the contract says"
// (nullopt), never an exception or a crash.
#include "fuzz_common.hpp"
#include "kgate/config.hpp"
#include "kgate/todo_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<kgate::ProfileConfig> profiles = [] {
    std::vector<kgate::ProfileConfig> out(3);
    out[1].task_id_format = "uuid";
    out[1].list_field = "items";
    out[2].task_id_format = "integer";
    out[2].list_field = "data";
    return out;
  }();
  const auto doc = kgate::parse_json(fuzz_text(data, size));
  if (!doc) return 0;
  for (const auto& profile : profiles) {
    (void)kgate::task_id_of(*doc, profile);
    const auto list = kgate::task_list_of(*doc, profile);
    if (!list) continue;
    FUZZ_ASSERT(list->is_array());
    for (const auto& task : *list) {
      if (auto id = kgate::task_id_of(task, profile)) FUZZ_ASSERT(!id->empty());
    }
  }
  return 0;
}
