#include "kgate/audit/chart.hpp"

#include <filesystem>
#include <fstream>
#include <regex>

namespace kgate::audit {
namespace fs = std::filesystem;

namespace {

std::size_t indent_of(const std::string& l) {
  return l.find_first_not_of(' ') == std::string::npos ? l.size() : l.find_first_not_of(' ');
}

// A line that carries YAML text (not blank, not a comment, not only a template action).
bool content(const std::string& l) {
  std::size_t i = l.find_first_not_of(" \t");
  if (i == std::string::npos) return false;
  return l[i] != '#' && l.compare(i, 2, "{{") != 0;
}

std::vector<std::string> tokens(const std::string& pointer) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < pointer.size()) {
    std::size_t next = pointer.find('/', i + 1);
    std::string t =
        pointer.substr(i + 1, next == std::string::npos ? std::string::npos : next - i - 1);
    std::string key;
    for (std::size_t k = 0; k < t.size(); ++k) {
      if (t[k] == '~' && k + 1 < t.size()) {
        key += t[k + 1] == '1' ? '/' : '~';
        ++k;
      } else {
        key += t[k];
      }
    }
    out.push_back(key);
    if (next == std::string::npos) break;
    i = next;
  }
  return out;
}

bool is_index(const std::string& t) {
  return !t.empty() && t.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

ChartSources::ChartSources(std::string chart_dir) : chart_dir_(std::move(chart_dir)) {
  while (chart_dir_.size() > 1 && chart_dir_.back() == '/') chart_dir_.pop_back();
  std::error_code ec;
  static const std::regex define_re(R"(\{\{-?\s*define\s+\"([^\"]+)\")");
  static const std::regex action_re(R"(\{\{-?\s*(if|range|with|define|block|end)\b)");
  for (const auto& e : fs::recursive_directory_iterator(chart_dir_, ec)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), chart_dir_, ec).generic_string();
    if (rel.find("templates/") == std::string::npos) continue;
    File f;
    f.path = chart_dir_ + "/" + rel;
    std::ifstream in(e.path());
    for (std::string l; std::getline(in, l);) f.lines.push_back(l);
    files_[rel] = std::move(f);
  }
  // Named templates: from the define to its matching end.
  for (const auto& [rel, f] : files_) {
    for (int i = 0; i < static_cast<int>(f.lines.size()); ++i) {
      std::smatch m;
      if (!std::regex_search(f.lines[i], m, define_re)) continue;
      int depth = 0, j = i;
      for (; j < static_cast<int>(f.lines.size()); ++j) {
        const std::string& l = f.lines[j];
        for (auto it = std::sregex_iterator(l.begin(), l.end(), action_re);
             it != std::sregex_iterator(); ++it)
          depth += (*it)[1] == "end" ? -1 : 1;
        if (depth <= 0) break;
      }
      defines_[m[1]] = Region{&f, i, std::min(j + 1, static_cast<int>(f.lines.size()))};
    }
  }
}

std::vector<ChartSources::Region> ChartSources::documents_of_kind(const Region& r,
                                                                  const std::string& kind,
                                                                  int depth) const {
  std::vector<Region> out;
  if (depth > 6) return out;
  const std::regex kind_re("^\\s*kind:\\s*\"?" + kind + "\"?\\s*$");
  static const std::regex include_re(R"((include|template)\s+\"([^\"]+)\")");
  int start = r.begin;
  for (int i = r.begin; i <= r.end; ++i) {
    bool boundary = i == r.end || r.file->lines[i].rfind("---", 0) == 0;
    if (!boundary) continue;
    Region doc{r.file, start, i};
    bool literal = false;
    for (int k = doc.begin; k < doc.end && !literal; ++k)
      literal = std::regex_search(r.file->lines[k], kind_re);
    if (literal) {
      out.push_back(doc);
    } else {
      for (int k = doc.begin; k < doc.end; ++k) {
        const std::string& l = r.file->lines[k];
        for (auto it = std::sregex_iterator(l.begin(), l.end(), include_re);
             it != std::sregex_iterator(); ++it) {
          auto d = defines_.find((*it)[2]);
          if (d == defines_.end()) continue;
          for (const auto& sub : documents_of_kind(d->second, kind, depth + 1)) out.push_back(sub);
        }
      }
    }
    start = i + 1;
  }
  return out;
}

// The line (index) that holds the deepest part of pointer the template spells out.
int ChartSources::walk(const Region& r, const std::string& pointer) const {
  const auto& lines = r.file->lines;
  int best = r.begin;
  static const std::regex kind_re(R"(^\s*kind:)");
  for (int i = r.begin; i < r.end; ++i)
    if (std::regex_search(lines[i], kind_re)) {
      best = i;
      break;
    }
  int cur = r.begin - 1;  // the line of the current node; its children follow it
  long min_indent = 0;    // children of the current node sit at least this deep
  bool on_item = false;   // cur is a "- " item line whose first key sits on the same line
  for (const auto& t : tokens(pointer)) {
    if (is_index(t)) {
      // A list's items may sit at the key's own indentation ("containers:\n- name: x").
      int want = std::stoi(t), seen = 0;
      long item_indent = -1;
      bool found = false;
      for (int i = cur + 1; i < r.end && !found; ++i) {
        if (!content(lines[i])) continue;
        long ind = static_cast<long>(indent_of(lines[i]));
        bool dash = lines[i].compare(ind, 2, "- ") == 0;
        if (ind < (dash ? min_indent - 1 : min_indent)) break;
        if (!dash) {
          if (item_indent >= 0 && ind <= item_indent) break;
          continue;
        }
        if (item_indent < 0) item_indent = ind;
        if (ind != item_indent) continue;
        if (seen++ == want) {
          cur = i;
          min_indent = ind + 2;
          on_item = true;
          best = i;
          found = true;
        }
      }
      if (!found) return best;
      continue;
    }
    bool found = false;
    long child_indent = -1;
    for (int i = on_item ? cur : cur + 1; i < r.end; ++i) {
      if (!content(lines[i])) continue;
      long ind = static_cast<long>(indent_of(lines[i]));
      std::string text = lines[i].substr(ind);
      bool dash = text.rfind("- ", 0) == 0;
      if (on_item && i == cur) {
        text = text.substr(2);
        ind += 2;
        dash = false;
      }
      if (ind + (dash ? 2 : 0) < min_indent) break;
      if (dash) continue;  // an item of a list below: not a key of this node
      if (child_indent < 0) child_indent = ind;
      if (ind != child_indent) continue;
      if (text.rfind(t + ":", 0) == 0 || text.rfind("\"" + t + "\":", 0) == 0) {
        cur = i;
        min_indent = ind + 1;
        best = i;
        found = true;
        break;
      }
    }
    on_item = false;
    if (!found) return best;
  }
  return best;
}

Location ChartSources::locate(const std::string& template_path, const std::string& kind, int nth,
                              const std::string& pointer) const {
  // "todo/templates/x.yaml" -> "templates/x.yaml"; subcharts keep "charts/sub/...".
  std::string rel = template_path.substr(template_path.find('/') + 1);
  auto f = files_.find(rel);
  if (f == files_.end()) return {chart_dir_ + "/" + rel, 0};
  Region whole{&f->second, 0, static_cast<int>(f->second.lines.size())};
  auto docs = documents_of_kind(whole, kind, 0);
  Region r = docs.empty() ? whole : docs[std::min<std::size_t>(nth, docs.size() - 1)];
  return {r.file->path, walk(r, pointer) + 1};
}

}  // namespace kgate::audit
