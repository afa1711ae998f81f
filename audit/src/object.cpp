#include "kgate/audit/object.hpp"

#include "kgate/audit/chart.hpp"

namespace kgate::audit {

namespace {
std::string str(const json& body, const char* a, const char* b = nullptr) {
  const json* j = &body;
  for (const char* key : {a, b}) {
    if (!key) break;
    if (!j->is_object() || !j->contains(key)) return "";
    j = &(*j)[key];
  }
  return j->is_string() ? j->get<std::string>() : "";
}
}  // namespace

std::string Object::kind() const {
  return str(body, "kind");
}
std::string Object::name() const {
  return str(body, "metadata", "name");
}
std::string Object::ns() const {
  return str(body, "metadata", "namespace");
}
std::string Object::api_version() const {
  return str(body, "apiVersion");
}
std::string Object::ref() const {
  return kind() + "/" + name();
}

std::string Object::origin() const {
  if (live) return "live: " + (ns().empty() ? "" : ns() + "/") + ref();
  if (!template_path.empty()) return template_path;
  return file + (document_line > 0 ? ":" + std::to_string(document_line) : "");
}

const json* Object::at(const std::string& pointer) const {
  try {
    json::json_pointer p(pointer);
    return body.contains(p) ? &body.at(p) : nullptr;
  } catch (const json::exception&) {
    return nullptr;
  }
}

std::string Object::annotation(const std::string& key) const {
  const json* a = at("/metadata/annotations");
  if (!a || !a->is_object() || !a->contains(key) || !(*a)[key].is_string()) return "";
  return (*a)[key].get<std::string>();
}

Location Object::locate(const std::string& pointer) const {
  if (live) return {};
  if (sources) return sources->locate(template_path, kind(), nth_of_kind, pointer);
  // The deepest ancestor of pointer with a known line.
  std::string p = pointer;
  while (true) {
    if (auto it = lines.find(p); it != lines.end()) return {file, it->second};
    if (p.empty()) break;
    p = p.substr(0, p.rfind('/'));
  }
  return {file, document_line};
}

std::string dotted_path(const std::string& pointer) {
  std::string out;
  std::size_t i = 0;
  while (i < pointer.size()) {
    std::size_t next = pointer.find('/', i + 1);
    std::string token =
        pointer.substr(i + 1, next == std::string::npos ? std::string::npos : next - i - 1);
    // Unescape ~1 and ~0.
    std::string key;
    for (std::size_t k = 0; k < token.size(); ++k) {
      if (token[k] == '~' && k + 1 < token.size()) {
        key += token[k + 1] == '1' ? '/' : '~';
        ++k;
      } else {
        key += token[k];
      }
    }
    bool index = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
    if (index)
      out += "[" + key + "]";
    else
      out += (out.empty() ? "" : ".") + key;
    if (next == std::string::npos) break;
    i = next;
  }
  return out;
}

}  // namespace kgate::audit
