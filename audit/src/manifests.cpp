// Multi-document YAML to objects, with the line of every key kept (yaml-cpp's marks).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "kgate/audit/load.hpp"

namespace kgate::audit {
namespace {

std::string escape_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

// YAML 1.2 core schema for plain scalars; quoted scalars stay strings.
json scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() != "?") return s;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex integer("[-+]?[0-9]+");
  static const std::regex hex("0x[0-9a-fA-F]+");
  static const std::regex octal("0o[0-7]+");
  static const std::regex real("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  errno = 0;
  if (std::regex_match(s, integer)) {
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == 0) return v;
  }
  if (std::regex_match(s, hex)) return std::strtoll(s.c_str() + 2, nullptr, 16);
  if (std::regex_match(s, octal)) return std::strtoll(s.c_str() + 2, nullptr, 8);
  if (std::regex_match(s, real)) return std::strtod(s.c_str(), nullptr);
  return s;
}

struct Converter {
  int line_offset;  // added to yaml-cpp's 0-based line of the document's text
  std::map<std::string, int>* lines;

  int line_of(const YAML::Node& n, int fallback) const {
    int l = n.Mark().line;
    return l < 0 ? fallback : l + 1 + line_offset;
  }

  json convert(const YAML::Node& n, const std::string& pointer, int line) {
    (*lines)[pointer] = line;
    switch (n.Type()) {
      case YAML::NodeType::Map: {
        json out = json::object();
        for (auto it = n.begin(); it != n.end(); ++it) {
          std::string key = it->first.IsScalar() ? it->first.Scalar() : YAML::Dump(it->first);
          std::string p = pointer + "/" + escape_token(key);
          out[key] = convert(it->second, p, line_of(it->first, line));
        }
        return out;
      }
      case YAML::NodeType::Sequence: {
        json out = json::array();
        for (std::size_t i = 0; i < n.size(); ++i) {
          const YAML::Node item = n[i];
          out.push_back(convert(item, pointer + "/" + std::to_string(i), line_of(item, line)));
        }
        return out;
      }
      case YAML::NodeType::Scalar:
        return scalar(n);
      default:
        return nullptr;
    }
  }
};

struct Document {
  std::string text;
  int first_line = 1;  // 1-based line of text's first line in the file
  std::string source;  // "# Source:" comment
};

// Splits on "---" lines (and "..." ends), as YAML streams do, keeping each document's offset.
std::vector<Document> split_documents(std::string_view text) {
  std::vector<Document> docs(1);
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ++line_no;
    bool marker =
        line.rfind("---", 0) == 0 && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
    bool doc_end = line == "..." || line.rfind("... ", 0) == 0;
    if (marker || doc_end) {
      docs.push_back({});
      // Keep the rest of a "--- x" line (columns preserved) as the document's first line.
      docs.back().first_line = marker ? line_no : line_no + 1;
      if (marker) docs.back().text = "   " + line.substr(3) + "\n";
    } else {
      auto& d = docs.back();
      static const std::string kSource = "# Source: ";
      if (d.source.empty() && line.rfind(kSource, 0) == 0) d.source = line.substr(kSource.size());
      d.text += line + "\n";
    }
    if (end == text.size()) break;
    pos = end + 1;
  }
  return docs;
}

void add_object(Objects& out, json body, std::map<std::string, int> lines, const std::string& file,
                int doc_line, const std::string& source) {
  Object o;
  o.body = std::move(body);
  o.lines = std::move(lines);
  o.file = file;
  o.document_line = doc_line;
  o.template_path = source;
  out.push_back(std::move(o));
}

}  // namespace

Objects parse_manifests(std::string_view text, const std::string& file) {
  Objects out;
  for (const auto& doc : split_documents(text)) {
    YAML::Node root;
    try {
      root = YAML::Load(doc.text);
    } catch (const YAML::Exception& e) {
      throw InputError(file + ":" + std::to_string(e.mark.line + doc.first_line) + ":" +
                       std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
    }
    if (!root || root.IsNull()) continue;
    int doc_line = root.Mark().line + doc.first_line;
    std::string where =
        file + ":" + std::to_string(doc_line) + ":" + std::to_string(root.Mark().column + 1);
    if (!root.IsMap())
      throw InputError(where + ": a document is not a mapping (a Kubernetes object)");
    std::map<std::string, int> lines;
    Converter conv{doc.first_line - 1, &lines};
    json body;
    try {
      body = conv.convert(root, "", doc_line);
    } catch (const YAML::Exception& e) {
      throw InputError(where + ": " + e.what());
    }
    if (!body.contains("kind") || !body["kind"].is_string() || !body.contains("apiVersion"))
      throw InputError(where + ": not a Kubernetes object (no kind or apiVersion)");
    std::string kind = body["kind"].get<std::string>();
    if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0 &&
        body.contains("items") && body["items"].is_array()) {
      // kubectl get -o yaml prints a List: its items are the objects.
      for (std::size_t i = 0; i < body["items"].size(); ++i) {
        std::string prefix = "/items/" + std::to_string(i);
        std::map<std::string, int> item_lines;
        for (const auto& [p, l] : lines)
          if (p.rfind(prefix, 0) == 0 && (p.size() == prefix.size() || p[prefix.size()] == '/'))
            item_lines[p.substr(prefix.size())] = l;
        int item_line = item_lines.count("") ? item_lines[""] : doc_line;
        add_object(out, body["items"][i], std::move(item_lines), file, item_line, doc.source);
      }
      continue;
    }
    add_object(out, std::move(body), std::move(lines), file, doc_line, doc.source);
  }
  return out;
}

Objects load_manifests(const std::string& path) {
  namespace fs = std::filesystem;
  auto read = [](std::istream& in) {
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  };
  if (path == "-") return parse_manifests(read(std::cin), "<stdin>");
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(path, ec)) {
      auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json"))
        files.push_back(e.path().string());
    }
    if (ec) throw InputError(path + ": cannot read the directory: " + ec.message());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError(path + ": no *.yaml, *.yml or *.json file in it");
    Objects out;
    for (const auto& f : files) {
      auto part = load_manifests(f);
      for (auto& o : part) out.push_back(std::move(o));
    }
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open: " + std::strerror(errno));
  return parse_manifests(read(in), path);
}

}  // namespace kgate::audit
