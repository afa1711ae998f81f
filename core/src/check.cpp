#include "kgate/check.hpp"

#include <algorithm>
#include <cctype>

namespace kgate {

bool register_check(const GroupInfo& group, const char* name, CheckInfo info, const char* file,
                    int line, CheckFactory make) {
  CheckDef def;
  def.suite = group.suite;
  def.group = group.name;
  def.name = name;
  def.id = def.suite + "." + def.group + "." + def.name;
  std::string group_tag = def.group;
  std::transform(group_tag.begin(), group_tag.end(), group_tag.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  def.tags.push_back(group_tag);
  for (const auto& t : info.tags)
    if (std::find(def.tags.begin(), def.tags.end(), t) == def.tags.end()) def.tags.push_back(t);
  def.info = std::move(info);
  // Only the file name: reports never show the build machine's source tree.
  std::string path = file;
  def.file = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  def.line = line;
  def.make = std::move(make);
  return add_check(std::move(def));
}

namespace detail {
namespace {
std::string where(const char* file, int line) {
  std::string path = file;
  auto slash = path.rfind('/');
  return (slash == std::string::npos ? path : path.substr(slash + 1)) + ":" + std::to_string(line);
}
}  // namespace

void Raise::operator=(const Message& m) const {
  const std::string text = m.str();
  switch (kind) {
    case Stop::Fail:
      if (auto* c = current_check()) c->add_finding({text, where(file, line)});
      throw CheckStopped{CheckStopped::Fail, text};
    case Stop::Skip:
      throw CheckStopped{CheckStopped::Skip, text};
    case Stop::Inconclusive:
      throw CheckStopped{CheckStopped::Inconclusive, text};
    case Stop::SetupError:
      throw CheckStopped{CheckStopped::SetupError, text};
  }
  throw CheckStopped{CheckStopped::Fail, text};
}

void Record::operator=(const Message& m) const {
  if (auto* c = current_check()) c->add_finding({m.str(), where(file, line)});
}

}  // namespace detail
}  // namespace kgate
