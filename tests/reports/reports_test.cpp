// Unit tests of the report writers: JUnit well-formedness and counts, HTML escaping and
// self-containment, JSON fields against docs/results-schema.json, atomic writes, redaction.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kgate/redact.hpp"
#include "kgate/reports.hpp"
#include "kgate/result.hpp"
#include "reports/sample_run.hpp"

namespace fs = std::filesystem;
using kgate::CheckStatus;
using kgate::RunResult;
using kgate::testing::kJwt;
using kgate::testing::kPlantedSecret;
using kgate::testing::sample_run;
namespace reports = kgate::reports;

namespace {

// ---- A small, strict XML 1.0 parser: enough to prove well-formedness and read the tree. ----

struct XmlNode {
  std::string tag;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::vector<std::unique_ptr<XmlNode>> children;
  std::string text;  // concatenated character data, references resolved

  const std::string* attr(const std::string& name) const {
    for (const auto& [k, v] : attrs)
      if (k == name) return &v;
    return nullptr;
  }
  std::string at(const std::string& name) const {
    const auto* v = attr(name);
    if (!v) throw std::runtime_error("<" + tag + "> has no attribute " + name);
    return *v;
  }
  std::vector<const XmlNode*> all(const std::string& child_tag) const {
    std::vector<const XmlNode*> out;
    for (const auto& c : children)
      if (c->tag == child_tag) out.push_back(c.get());
    return out;
  }
  const XmlNode* first(const std::string& child_tag) const {
    for (const auto& c : children)
      if (c->tag == child_tag) return c.get();
    return nullptr;
  }
};

class XmlParser {
 public:
  explicit XmlParser(std::string_view s) : s_(s) {}

  std::unique_ptr<XmlNode> parse() {
    check_chars();
    if (s_.substr(0, 5) == "<?xml") {
      const auto end = s_.find("?>");
      if (end == std::string_view::npos) fail("unterminated XML declaration");
      i_ = end + 2;
    }
    skip_ws();
    auto root = element();
    skip_ws();
    if (i_ != s_.size()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("XML not well-formed at byte " + std::to_string(i_) + ": " + why);
  }

  // Every character must be well-formed UTF-8 and an XML 1.0 Char.
  void check_chars() const {
    for (std::size_t k = 0; k < s_.size();) {
      const auto b = static_cast<unsigned char>(s_[k]);
      std::size_t len = b < 0x80         ? 1
                        : (b >> 5) == 6  ? 2
                        : (b >> 4) == 14 ? 3
                        : (b >> 3) == 30 ? 4
                                         : 0;
      if (len == 0 || k + len > s_.size()) throw std::runtime_error("bad UTF-8 lead byte");
      char32_t cp = len == 1 ? b : b & (0x7F >> len);
      for (std::size_t j = 1; j < len; ++j) {
        const auto c = static_cast<unsigned char>(s_[k + j]);
        if ((c & 0xC0) != 0x80) throw std::runtime_error("bad UTF-8 continuation byte");
        cp = (cp << 6) | (c & 0x3F);
      }
      const bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                      (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
      if (!ok)
        throw std::runtime_error("character not allowed in XML 1.0 at byte " + std::to_string(k));
      k += len;
    }
  }

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }

  std::string name() {
    const auto start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '_' || s_[i_] == '.' || s_[i_] == ':'))
      ++i_;
    if (i_ == start) fail("expected a name");
    return std::string(s_.substr(start, i_ - start));
  }

  void expect(char c) {
    if (i_ >= s_.size() || s_[i_] != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }

  // Character data up to `stop`, resolving references; '<' inside is an error (and '"' in
  // attributes delimited by '"').
  std::string chars(char stop) {
    std::string out;
    while (i_ < s_.size() && s_[i_] != stop) {
      const char c = s_[i_];
      if (c == '<') fail("'<' in character data");
      if (c == '&') {
        const auto end = s_.find(';', i_);
        if (end == std::string_view::npos) fail("unterminated reference");
        const std::string ref(s_.substr(i_ + 1, end - i_ - 1));
        if (ref == "amp")
          out += '&';
        else if (ref == "lt")
          out += '<';
        else if (ref == "gt")
          out += '>';
        else if (ref == "quot")
          out += '"';
        else if (ref == "apos")
          out += '\'';
        else if (ref.size() > 1 && ref[0] == '#') {
          const long cp =
              ref[1] == 'x' ? std::stol(ref.substr(2), nullptr, 16) : std::stol(ref.substr(1));
          if (cp != 9 && cp != 10 && cp != 13 && cp < 0x20)
            fail("reference to a forbidden character");
          if (cp >= 0x80) fail("test parser only resolves ASCII character references");
          out += static_cast<char>(cp);
        } else {
          fail("unknown entity &" + ref + ";");
        }
        i_ = end + 1;
        continue;
      }
      out += c;
      ++i_;
    }
    return out;
  }

  std::unique_ptr<XmlNode> element() {
    expect('<');
    auto node = std::make_unique<XmlNode>();
    node->tag = name();
    for (;;) {
      skip_ws();
      if (i_ >= s_.size()) fail("unterminated start tag");
      if (s_[i_] == '/') {
        ++i_;
        expect('>');
        return node;
      }
      if (s_[i_] == '>') {
        ++i_;
        break;
      }
      std::string key = name();
      if (node->attr(key)) fail("duplicate attribute " + key);
      skip_ws();
      expect('=');
      skip_ws();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) fail("unquoted attribute");
      const char q = s_[i_++];
      std::string value = chars(q);
      expect(q);
      node->attrs.emplace_back(std::move(key), std::move(value));
    }
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated element <" + node->tag + ">");
      if (s_.substr(i_, 2) == "</") {
        i_ += 2;
        if (name() != node->tag) fail("mismatched end tag for <" + node->tag + ">");
        skip_ws();
        expect('>');
        return node;
      }
      if (s_[i_] == '<') {
        node->children.push_back(element());
      } else {
        node->text += chars('<');
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::unique_ptr<XmlNode> parse_xml(const std::string& text) {
  return XmlParser(text).parse();
}

std::map<std::string, std::string> props_of(const XmlNode& n) {
  std::map<std::string, std::string> out;
  if (const auto* props = n.first("properties"))
    for (const auto* p : props->all("property")) out[p->at("name")] = p->at("value");
  return out;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kgate-reports-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class ReportsTest : public ::testing::Test {
 protected:
  void SetUp() override { kgate::clear_secrets(); }
  void TearDown() override { kgate::clear_secrets(); }
};

}  // namespace

// ---------------------------------------------------------------------------- result model

TEST_F(ReportsTest, StatusNamesAndCounts) {
  EXPECT_STREQ(kgate::to_string(CheckStatus::Passed), "passed");
  EXPECT_STREQ(kgate::to_string(CheckStatus::Failed), "failed");
  EXPECT_STREQ(kgate::to_string(CheckStatus::Skipped), "skipped");
  EXPECT_STREQ(kgate::to_string(CheckStatus::Inconclusive), "inconclusive");
  EXPECT_STREQ(kgate::to_string(CheckStatus::Error), "error");
  const RunResult run = sample_run();
  EXPECT_EQ(run.count(CheckStatus::Passed), 1);
  EXPECT_EQ(run.count(CheckStatus::Failed), 2);
  EXPECT_EQ(run.count(CheckStatus::Skipped), 1);
  EXPECT_EQ(RunResult{}.count(CheckStatus::Failed), 0);
}

// ---------------------------------------------------------------------------- JUnit

TEST_F(ReportsTest, JunitIsWellFormedWithRightCounts) {
  const std::string xml = reports::junit_xml(sample_run());
  std::unique_ptr<XmlNode> root;
  ASSERT_NO_THROW(root = parse_xml(xml)) << xml;
  EXPECT_EQ(root->tag, "testsuites");
  EXPECT_EQ(root->at("name"), "kgate");
  EXPECT_EQ(root->at("tests"), "4");
  EXPECT_EQ(root->at("failures"), "2");
  EXPECT_EQ(root->at("errors"), "0");
  EXPECT_EQ(root->at("skipped"), "1");
  EXPECT_EQ(root->at("time"), "42.500");
  EXPECT_EQ(root->at("timestamp"), "2024-05-01T12:00:00Z");
  EXPECT_EQ(props_of(*root).at("kgate.verdict"), "FAIL");
  EXPECT_EQ(props_of(*root).count("kgate.aborted"), 0u) << "said only when aborted";

  const auto suites = root->all("testsuite");
  ASSERT_EQ(suites.size(), 4u);
  // Selected suites in selection order, then the others.
  EXPECT_EQ(suites[0]->at("name"), "smoke");
  EXPECT_EQ(suites[1]->at("name"), "security");
  EXPECT_EQ(suites[2]->at("name"), "load");
  EXPECT_EQ(suites[3]->at("name"), "extra");
  for (const auto* s : suites) {
    EXPECT_FALSE(s->at("hostname").empty());
    EXPECT_EQ(s->at("timestamp"), "2024-05-01T12:00:00Z");
    EXPECT_EQ(s->at("errors"), "0");
    const auto p = props_of(*s);
    EXPECT_EQ(p.at("kgate.version"), "0.1.0");
    EXPECT_EQ(p.at("kgate.aborted"), "false");
    EXPECT_EQ(p.at("kgate.target"), "https://todo.example.test/?token=[REDACTED]");
    EXPECT_EQ(std::to_string(s->all("testcase").size()), s->at("tests"));
  }
  EXPECT_EQ(suites[0]->at("tests"), "2");
  EXPECT_EQ(suites[0]->at("failures"), "0");
  EXPECT_EQ(suites[0]->at("skipped"), "1");
  EXPECT_EQ(suites[0]->at("time"), "0.042");
  EXPECT_EQ(suites[1]->at("tests"), "1");
  EXPECT_EQ(suites[1]->at("failures"), "1");
  EXPECT_EQ(suites[2]->at("tests"), "0");

  const auto smoke = suites[0]->all("testcase");
  EXPECT_EQ(smoke[0]->at("classname"), "smoke.Health");
  EXPECT_EQ(smoke[0]->at("name"), "BackendHealth");
  EXPECT_EQ(smoke[0]->at("time"), "0.042");
  EXPECT_EQ(smoke[0]->first("failure"), nullptr);
  EXPECT_EQ(smoke[0]->first("skipped"), nullptr);
  const auto hp = props_of(*smoke[0]);
  EXPECT_EQ(hp.at("latency"), "12.5 ms") << "a scalar with its unit";
  EXPECT_EQ(hp.at("threshold: latency < 500ms"), "12.5 ms (met)");
  EXPECT_EQ(hp.at("title"), "Backend /health answers 200 healthy");
  ASSERT_NE(smoke[0]->first("system-out"), nullptr);
  const std::string health_out = smoke[0]->first("system-out")->text;
  EXPECT_NE(health_out.find("GET https://todo.example.test/health -> 200"), std::string::npos);
  // Series and the timeline, as short text.
  EXPECT_NE(health_out.find("answered: 3 points from 1s to 3s, min 10, max 30, last 30"),
            std::string::npos)
      << health_out;
  EXPECT_NE(health_out.find("1.5s  delete             pod/todo-<1>: sent by kgate"),
            std::string::npos)
      << health_out;

  const auto* skipped = smoke[1]->first("skipped");
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->at("message"), "no admin credentials <configured> & none given");

  const auto* idor = suites[1]->first("testcase");
  const auto* failure = idor->first("failure");
  ASSERT_NE(failure, nullptr);
  EXPECT_EQ(failure->at("message"), "<script>alert(\"x&y\")</script> leaked with [REDACTED]");
  EXPECT_EQ(failure->at("type"), "failure");
  // Control characters are stripped; the rest, including non-ASCII and quotes, is kept.
  EXPECT_NE(failure->text.find("authz.cpp:42: expected 403, got 200\na<b & c>d \"q\" 'a'  end\n"),
            std::string::npos)
      << failure->text;
  const auto ip = props_of(*idor);
  EXPECT_EQ(ip.at("severity"), "high");
  EXPECT_EQ(ip.at("reference"), "OWASP API1:2023");
  EXPECT_EQ(ip.at("expected_status"), "403");
  EXPECT_EQ(ip.at("awkward"), "a<b & c>d \"q\" 'a'  end");
  EXPECT_EQ(ip.at("title"),
            std::string("Users cannot read other users' todos ") + kgate::testing::kNonAscii);
  const std::string out = idor->first("system-out")->text;
  EXPECT_NE(out.find("DELETE https://todo.example.test/api/todos/17 -> no answer"),
            std::string::npos);
  EXPECT_NE(out.find("timeout after 3s"), std::string::npos);
}

TEST_F(ReportsTest, JunitKeepsWhitespaceInAttributesAndStripsInvalidCharacters) {
  RunResult run;
  run.suites = {"s"};
  kgate::CheckResult c;
  c.suite = "s";
  c.classname = "s.C";
  c.name = "n";
  c.status = CheckStatus::Failed;
  c.message = "line1\nline2\ttab\r\x02\x0b\x0c";
  c.detail = std::string("bad utf8 \xff\xfe end, surrogate \xed\xa0\x80, nonchar \xef\xbf\xbe");
  run.checks.push_back(c);
  const std::string xml = reports::junit_xml(run);
  std::unique_ptr<XmlNode> root;
  ASSERT_NO_THROW(root = parse_xml(xml)) << xml;
  const auto* f = root->first("testsuite")->first("testcase")->first("failure");
  EXPECT_EQ(f->at("message"), "line1\nline2\ttab\r");
  EXPECT_EQ(f->text,
            "bad utf8 \xEF\xBF\xBD\xEF\xBF\xBD end, surrogate "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD, nonchar ");
}

TEST_F(ReportsTest, JunitMarksAbortedRuns) {
  RunResult run = sample_run();
  run.aborted = true;
  run.abort_reason = "interrupted by SIGINT";
  run.verdict = "ABORTED";
  const auto root = parse_xml(reports::junit_xml(run));
  const auto p = props_of(*root);
  EXPECT_EQ(p.at("kgate.aborted"), "true");
  EXPECT_EQ(p.at("kgate.abort_reason"), "interrupted by SIGINT");
  for (const auto* s : root->all("testsuite")) {
    EXPECT_EQ(props_of(*s).at("kgate.aborted"), "true");
    const auto* note = s->first("system-out");
    ASSERT_NE(note, nullptr);
    EXPECT_NE(note->text.find("aborted: interrupted by SIGINT"), std::string::npos);
  }
}

TEST_F(ReportsTest, EmptyRunProducesValidReports) {
  const RunResult run;
  const auto root = parse_xml(reports::junit_xml(run));
  EXPECT_EQ(root->at("tests"), "0");
  EXPECT_TRUE(root->all("testsuite").empty());
  const auto j = nlohmann::json::parse(reports::json_text(run));
  EXPECT_EQ(j["summary"]["total"], 0);
  EXPECT_TRUE(j["checks"].empty());
  EXPECT_NE(reports::html(run).find("No check ran."), std::string::npos);
}

// ---------------------------------------------------------------------------- HTML

TEST_F(ReportsTest, HtmlIsSelfContainedAndEscaped) {
  const std::string page = reports::html(sample_run());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(page.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "style-src 'unsafe-inline'; img-src data:"),
            std::string::npos);
  // Nothing that could load from the network (or run).
  for (const char* forbidden : {"<script", "<link", "<img", "<iframe", "<object", "<embed",
                                "src=", "url(", "@import", "@font-face", "javascript:"})
    EXPECT_EQ(page.find(forbidden), std::string::npos) << forbidden;
  // Everything user-provided is escaped.
  EXPECT_NE(page.find("&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;"),
            std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;Alice&#39;s&lt;/b&gt; &amp; Bob"), std::string::npos);
  EXPECT_NE(page.find("no admin credentials &lt;configured&gt; &amp; none given"),
            std::string::npos);
  EXPECT_NE(page.find(kgate::testing::kNonAscii), std::string::npos) << "UTF-8 is kept";
  for (const char c : page) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_FALSE(u < 0x20 && c != '\n' && c != '\t') << "control character " << int(u);
    if (u < 0x20 && c != '\n' && c != '\t') break;
  }
}

TEST_F(ReportsTest, HtmlPutsVerdictFirstThenSummaryFailuresSkippedPassed) {
  const std::string page = reports::html(sample_run());
  const auto verdict = page.find("id=\"verdict\">FAIL</h1>");
  const auto summary = page.find("Summary by suite");
  const auto failed = page.find("<section id=\"failed\">");
  const auto skipped = page.find("<section id=\"skipped\">");
  const auto passed = page.find("<section id=\"passed\">");
  ASSERT_NE(verdict, std::string::npos);
  ASSERT_NE(summary, std::string::npos);
  ASSERT_NE(failed, std::string::npos);
  ASSERT_NE(skipped, std::string::npos);
  ASSERT_NE(passed, std::string::npos);
  EXPECT_LT(verdict, summary);
  EXPECT_LT(summary, failed);
  EXPECT_LT(failed, skipped);
  EXPECT_LT(skipped, passed);
  // Passed checks are collapsed.
  EXPECT_NE(page.find("<details class=\"passed\">", passed), std::string::npos);
  // Counts, target, duration, time in the banner.
  EXPECT_NE(page.find("2 of 4 checks failed"), std::string::npos);
  EXPECT_NE(page.find("https://todo.example.test/?token=[REDACTED]"), std::string::npos);
  EXPECT_NE(page.find("42.5 s"), std::string::npos);
  EXPECT_NE(page.find("2024-05-01 12:00:00 UTC"), std::string::npos);
  // Badges, measured vs threshold, evidence.
  EXPECT_NE(page.find("sev-high\" title=\"Severity\">HIGH</span>"), std::string::npos);
  EXPECT_NE(page.find("OWASP API1:2023"), std::string::npos);
  EXPECT_NE(page.find("<tr><td>latency</td><td class=\"m\">12.5 ms</td></tr>"), std::string::npos);
  EXPECT_NE(page.find("<tr><td><code>p95 &lt; 500ms</code></td><td class=\"m\">812 ms</td><td>"
                      "<span class=\"st st-failed\">NOT MET</span></td></tr>"),
            std::string::npos);
  EXPECT_NE(page.find("<span class=\"method\">DELETE</span>"), std::string::npos);
  EXPECT_NE(page.find("<span class=\"http h0\">no answer</span>"), std::string::npos);
  EXPECT_NE(page.find("<svg class=\"donut\""), std::string::npos);
}

TEST_F(ReportsTest, HtmlShowsAbortedBanner) {
  RunResult run = sample_run();
  run.aborted = true;
  run.abort_reason = "interrupted <SIGINT>";
  run.verdict = "ABORTED";
  const std::string page = reports::html(run);
  EXPECT_NE(page.find("id=\"verdict\">ABORTED</h1>"), std::string::npos);
  EXPECT_NE(page.find("class=\"v-aborted\""), std::string::npos);
  EXPECT_NE(page.find("<strong>Run aborted.</strong> interrupted &lt;SIGINT&gt;."),
            std::string::npos);
}

TEST_F(ReportsTest, HtmlCutsHugeExcerpts) {
  RunResult run = sample_run();
  run.checks[0].evidence[0].response_excerpt = std::string(200 * 1024, 'x') + "TAIL";
  const std::string page = reports::html(run);
  EXPECT_EQ(page.find("xxxxTAIL"), std::string::npos);
  EXPECT_NE(page.find("more bytes not shown"), std::string::npos);
  // The JSON keeps it whole.
  EXPECT_NE(reports::json_text(run).find("xxxxTAIL"), std::string::npos);
}

// ---------------------------------------------------------------------------- JSON

namespace {

nlohmann::json load_schema() {
  const char* src = std::getenv("KGATE_SOURCE_DIR");
  const fs::path path =
      fs::path(src ? src : KGATE_TEST_SOURCE_DIR) / "docs" / "results-schema.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

// The keys an object must have, and may have, per a schema object (resolving one $ref level).
void expect_matches_object_schema(const nlohmann::json& value, const nlohmann::json& schema,
                                  const nlohmann::json& root, const std::string& where) {
  const nlohmann::json* s = &schema;
  if (s->contains("$ref")) {
    const std::string ref = (*s)["$ref"];
    ASSERT_EQ(ref.rfind("#/$defs/", 0), 0u) << ref;
    s = &root["$defs"][ref.substr(8)];
  }
  ASSERT_TRUE(value.is_object()) << where;
  for (const auto& key : (*s)["required"]) {
    EXPECT_TRUE(value.contains(key)) << where << " lacks " << key;
  }
  if (s->value("additionalProperties", true) == false) {
    for (const auto& [key, _] : value.items()) {
      EXPECT_TRUE((*s)["properties"].contains(key)) << where << " has undocumented key " << key;
    }
  }
  for (const auto& [key, sub] : (*s)["properties"].items()) {
    if (!value.contains(key)) continue;
    const auto& v = value[key];
    const nlohmann::json* t = &sub;
    if (t->contains("$ref")) t = &root["$defs"][(*t)["$ref"].get<std::string>().substr(8)];
    if (!t->contains("type")) continue;
    const auto type = (*t)["type"];
    const auto is = [&](const std::string& name) {
      if (name == "string") return v.is_string();
      if (name == "integer") return v.is_number_integer();
      if (name == "number") return v.is_number();
      if (name == "boolean") return v.is_boolean();
      if (name == "array") return v.is_array();
      if (name == "object") return v.is_object();
      if (name == "null") return v.is_null();
      return false;
    };
    bool ok = false;
    if (type.is_string()) ok = is(type);
    for (const auto& alt : type.is_array() ? type : nlohmann::json::array()) ok = ok || is(alt);
    EXPECT_TRUE(ok) << where << "." << key << " has the wrong type: " << v.dump();
    if (t->contains("enum")) {
      bool found = false;
      for (const auto& e : (*t)["enum"]) found = found || e == v;
      EXPECT_TRUE(found) << where << "." << key << " = " << v.dump() << " not in enum";
    }
    if (t->contains("const")) {
      EXPECT_EQ(v, (*t)["const"]) << where << "." << key;
    }
  }
}

}  // namespace

TEST_F(ReportsTest, JsonHasTheDocumentedFields) {
  const auto j = nlohmann::json::parse(reports::json_text(sample_run()));
  EXPECT_EQ(j["schema"], "kgate/results/v2");
  EXPECT_DOUBLE_EQ(j["started_epoch_ms"].get<double>(), 1714564800000.0);
  EXPECT_EQ(j["tool_version"], "0.1.0");
  EXPECT_EQ(j["target"], "https://todo.example.test/?token=[REDACTED]");
  EXPECT_EQ(j["started_at"], "2024-05-01T12:00:00Z");
  EXPECT_DOUBLE_EQ(j["duration_seconds"].get<double>(), 42.5);
  EXPECT_EQ(j["verdict"], "FAIL");
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["aborted"], false);
  EXPECT_EQ(j["abort_reason"], "");
  EXPECT_EQ(j["suites"], nlohmann::json({"smoke", "security", "load", "extra"}));
  EXPECT_EQ(j["summary"], nlohmann::json({{"total", 4},
                                          {"passed", 1},
                                          {"failed", 2},
                                          {"warnings", 0},
                                          {"skipped", 1},
                                          {"inconclusive", 0},
                                          {"errors", 0}}));
  ASSERT_EQ(j["checks"].size(), 4u);
  const auto& h = j["checks"][0];
  EXPECT_EQ(h["suite"], "smoke");
  EXPECT_EQ(h["classname"], "smoke.Health");
  EXPECT_EQ(h["name"], "BackendHealth");
  EXPECT_EQ(h["status"], "passed");
  EXPECT_DOUBLE_EQ(h["seconds"].get<double>(), 0.042);
  EXPECT_EQ(h["id"], "smoke.Health.BackendHealth");
  EXPECT_EQ(h["scalars"][0],
            nlohmann::json({{"name", "latency"}, {"value", 12.5}, {"unit", "ms"}}));
  EXPECT_EQ(h["events"][1]["kind"], "Ready");
  EXPECT_DOUBLE_EQ(h["events"][1]["t"].get<double>(), 2.5);
  EXPECT_EQ(h["charts"][0]["series"][0]["t"], nlohmann::json({1, 2, 3}));
  EXPECT_EQ(h["thresholds"][0]["passed"], true);
  EXPECT_EQ(h["properties"]["body"], std::string("ok ") + kgate::testing::kNonAscii);
  EXPECT_EQ(h["evidence"][0]["status"], 200);
  EXPECT_DOUBLE_EQ(h["evidence"][0]["elapsed_ms"].get<double>(), 12.5);
  const auto& f = j["checks"][1];
  EXPECT_EQ(f["status"], "failed");
  EXPECT_EQ(f["severity"], "high");
  EXPECT_EQ(f["reference"], "OWASP API1:2023");
  EXPECT_EQ(f["properties"]["awkward"], "a<b & c>d \"q\" 'a'  end");
  EXPECT_EQ(f["evidence"][1]["method"], "DELETE");
  EXPECT_EQ(f["evidence"][1]["status"], 0);
  EXPECT_EQ(j["checks"][2]["status"], "skipped");
  EXPECT_EQ(j["checks"][2]["message"], "no admin credentials <configured> & none given");

  const auto schema = load_schema();
  EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
  expect_matches_object_schema(j, schema, schema, "results");
  expect_matches_object_schema(j["summary"], schema["properties"]["summary"], schema, "summary");
  for (const auto& c : j["checks"]) {
    expect_matches_object_schema(c, schema["properties"]["checks"]["items"], schema, "check");
    for (const auto& e : c["evidence"])
      expect_matches_object_schema(e, schema["$defs"]["check"]["properties"]["evidence"]["items"],
                                   schema, "evidence");
  }
}

// ---------------------------------------------------------------------------- redaction

TEST_F(ReportsTest, PlantedSecretAndJwtNeverAppear) {
  const RunResult run = sample_run();  // registers the planted secret
  const std::map<std::string, std::string> outputs = {{"junit", reports::junit_xml(run)},
                                                      {"html", reports::html(run)},
                                                      {"json", reports::json_text(run)}};
  for (const auto& [name, text] : outputs) {
    EXPECT_EQ(text.find(kPlantedSecret), std::string::npos) << name;
    EXPECT_EQ(text.find(kJwt), std::string::npos) << name;
    EXPECT_EQ(text.find("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"), std::string::npos) << name;
    EXPECT_EQ(text.find("planted-secret"), std::string::npos) << name << ": split secret";
    EXPECT_NE(text.find("[REDACTED]"), std::string::npos) << name;
  }
}

TEST_F(ReportsTest, SecretsInEveryFieldAreRedacted) {
  kgate::register_secret(kPlantedSecret);
  const std::string s = kPlantedSecret;
  RunResult run;
  run.tool_version = s;
  run.target = s;
  run.started_at = s;
  run.abort_reason = s;
  run.aborted = true;
  run.verdict = s;
  run.suites = {s};
  kgate::CheckResult c;
  c.suite = s;
  c.classname = s;
  c.name = s;
  c.title = s;
  c.status = CheckStatus::Failed;
  c.message = s;
  c.detail = s;
  c.severity = s;
  c.reference = s;
  c.tags = {s};
  c.properties = {{s, s}};
  c.scalars = {{s, 1, s}};
  c.events = {{1, s, s, s}};
  c.thresholds = {{s, s, false}};
  c.charts = {{s, s, {s}, {{s, {}, {1}}}, true}};
  run.selection = s;
  run.suite_results = {{s, s, {{s, s}}, {{s, 1, s}}, {}, {{1, s, s, s}}, s}};
  c.evidence = {{s, s, s, 500, s, 1, s}};
  run.checks = {c, c};
  run.checks[1].status = CheckStatus::Skipped;
  for (const auto& text : {reports::junit_xml(run), reports::html(run), reports::json_text(run)})
    EXPECT_EQ(text.find("planted"), std::string::npos) << text;
}

// ---------------------------------------------------------------------------- files

TEST_F(ReportsTest, AtomicWriteCreatesDirectoriesAndReplaces) {
  TempDir tmp;
  const fs::path dir = tmp.path() / "a" / "b";
  const fs::path file = dir / "report.xml";
  reports::write_file_atomically(file.string(), "first");
  EXPECT_EQ(read_file(file), "first");
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"report.xml"});
  const auto perms = fs::status(file).permissions();
  EXPECT_NE(perms & fs::perms::others_read, fs::perms::none) << "reports are world-readable";

  reports::write_file_atomically(file.string(), "second, longer content");
  EXPECT_EQ(read_file(file), "second, longer content");
  reports::write_file_atomically(file.string(), "");
  EXPECT_EQ(read_file(file), "");
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"report.xml"}) << "no temporary file left";
}

TEST_F(ReportsTest, AtomicWriteToRelativePath) {
  TempDir tmp;
  const auto old = fs::current_path();
  fs::current_path(tmp.path());
  EXPECT_NO_THROW(reports::write_file_atomically("plain.txt", "x"));
  fs::current_path(old);
  EXPECT_EQ(read_file(tmp.path() / "plain.txt"), "x");
}

TEST_F(ReportsTest, AtomicWriteFailureNamesThePathAndLeavesNothing) {
  TempDir tmp;
  // A regular file where a directory is needed: fails even for root.
  const fs::path blocker = tmp.path() / "not-a-dir";
  reports::write_file_atomically(blocker.string(), "x");
  const std::string bad = (blocker / "sub" / "report.html").string();
  try {
    reports::write_file_atomically(bad, "content");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Not a directory"), std::string::npos) << e.what();
  }

  // The target is a directory: rename fails after the temporary file was written.
  const fs::path dir_target = tmp.path() / "out" / "results.json";
  fs::create_directories(dir_target);
  try {
    reports::write_json(sample_run(), dir_target.string());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_target.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(list_dir(tmp.path() / "out"), std::vector<std::string>{"results.json"})
      << "temporary file removed";

  EXPECT_THROW(reports::write_file_atomically("", "x"), std::runtime_error);
}

TEST_F(ReportsTest, UnwritableDirectoryThrows) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permission bits do not stop root";
  TempDir tmp;
  const fs::path ro = tmp.path() / "ro";
  fs::create_directories(ro);
  ::chmod(ro.c_str(), 0555);
  const std::string path = (ro / "x.xml").string();
  try {
    reports::write_file_atomically(path, "x");
    ADD_FAILURE() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
  }
  ::chmod(ro.c_str(), 0755);
}

TEST_F(ReportsTest, WritersWriteFiles) {
  TempDir tmp;
  const RunResult run = sample_run();
  reports::write_junit(run, (tmp.path() / "r" / "junit.xml").string());
  reports::write_html(run, (tmp.path() / "r" / "report.html").string());
  reports::write_json(run, (tmp.path() / "r" / "results.json").string());
  EXPECT_EQ(read_file(tmp.path() / "r" / "junit.xml"), reports::junit_xml(run));
  EXPECT_EQ(read_file(tmp.path() / "r" / "report.html"), reports::html(run));
  EXPECT_EQ(read_file(tmp.path() / "r" / "results.json"), reports::json_text(run));
  EXPECT_EQ(list_dir(tmp.path() / "r"),
            (std::vector<std::string>{"junit.xml", "report.html", "results.json"}));
}

namespace {

// A finding below the gate's severity floor: visible in every output, failing none.
TEST(ReportsWarning, EveryWriterShowsAWarningWithoutFailingIt) {
  kgate::RunResult run;
  run.verdict = "PASS";
  kgate::CheckResult c;
  c.suite = "security";
  c.classname = "security.Leaks";
  c.name = "HeadersNameNoVersions";
  c.title = "Server names no version";
  c.status = kgate::CheckStatus::Warning;
  c.severity = "low";
  c.message = "Server: uvicorn/0.27.0";
  run.checks.push_back(c);

  const auto j = nlohmann::json::parse(kgate::reports::json_text(run));
  EXPECT_EQ(j["checks"][0]["status"], "warning");
  EXPECT_EQ(j["summary"]["warnings"], 1);
  EXPECT_EQ(j["summary"]["failed"], 0);

  const std::string xml = kgate::reports::junit_xml(run);
  EXPECT_EQ(xml.find("<failure"), std::string::npos) << xml;
  EXPECT_NE(xml.find("WARNING (low finding"), std::string::npos) << xml;
  EXPECT_NE(xml.find("failures=\"0\""), std::string::npos) << xml;

  const std::string page = kgate::reports::html(run);
  EXPECT_NE(page.find("<section id=\"warnings\">"), std::string::npos);
  EXPECT_NE(page.find("1 warnings"), std::string::npos);
  EXPECT_NE(page.find("st-warning"), std::string::npos);
}

}  // namespace

namespace {

// Charts are drawn inline (no network), escaped, and kept as data in the JSON.
TEST(ReportsCharts, HtmlDrawsThemAndJsonKeepsTheData) {
  auto run = kgate::testing::sample_run();
  kgate::CheckResult threshold;
  threshold.suite = "load";
  threshold.classname = "load.Thresholds";
  threshold.name = "p95 < 300ms";
  threshold.status = kgate::CheckStatus::Failed;
  threshold.thresholds = {{"p95 < 300ms", "312.4ms", false}};
  run.checks.push_back(threshold);
  const std::string page = kgate::reports::html(run);
  auto section = page.find("<section id=\"measurements\">");
  ASSERT_NE(section, std::string::npos);
  EXPECT_NE(page.find("Throughput &lt;over time&gt;", section), std::string::npos);
  EXPECT_NE(page.find("<path d=\"M", section), std::string::npos) << "a line chart";
  EXPECT_NE(page.find("<title>answered at +1s (12:00:02 UTC): 20 req/s</title>", section),
            std::string::npos)
      << "every point tells its value on hover";
  EXPECT_NE(
      page.find("<title>12:00:01 UTC delete pod/todo-&lt;1&gt;: sent by kgate</title>", section),
      std::string::npos)
      << "events on the chart's time axis";
  EXPECT_NE(page.find("<h4>Timeline</h4>", section), std::string::npos);
  EXPECT_NE(page.find("<rect x=", section), std::string::npos) << "a bar chart";
  auto table = page.find("<h3>Thresholds</h3>", section);
  ASSERT_NE(table, std::string::npos) << "the threshold table";
  EXPECT_NE(page.find("<code>p95 &lt; 300ms</code></td><td>312.4ms", table), std::string::npos);
  const auto j = nlohmann::json::parse(kgate::reports::json_text(run));
  const auto& charts = j["checks"][0]["charts"];
  ASSERT_EQ(charts.size(), 2u);
  EXPECT_EQ(charts[0]["series"][0]["values"], nlohmann::json({10, 20, 30}));
  EXPECT_EQ(charts[1]["labels"], nlohmann::json({"p50", "p99"}));
}

}  // namespace

namespace {

using kgate::CriterionResult;
using kgate::CriterionVerdict;

// A run with release criteria of every kind: met, required not met, required not verified,
// advisory not met, advisory not verified (a manual item).
RunResult criteria_run() {
  RunResult run = sample_run();
  auto criterion = [](std::string id, CriterionVerdict v, bool required, std::string reason) {
    CriterionResult c;
    c.id = std::move(id);
    c.text = "The sentence for " + c.id + " <as written> & signed";
    c.source = "seed 001 §5.1";
    c.required = required;
    c.verdict = v;
    c.reason = std::move(reason);
    return c;
  };
  auto met = criterion("health", CriterionVerdict::Met, true, "smoke.Health.BackendHealth passed");
  met.named_checks = {"smoke.Health.BackendHealth"};
  met.named_figures = {"smoke.Health.BackendHealth.latency < 2s"};
  met.checks = {{"smoke.Health.BackendHealth", "passed", ""}};
  met.figures = {{"smoke.Health.BackendHealth.latency < 2s", "smoke.Health.BackendHealth",
                  "latency", "12.5 ms", "held"}};
  auto not_met =
      criterion("isolation", CriterionVerdict::NotMet, true,
                std::string("security.Authz.NoCrossUserRead failed: leaked ") + kPlantedSecret);
  not_met.checks = {{"security.Authz.NoCrossUserRead", "failed", "leaked"}};
  auto unverified = criterion("admin", CriterionVerdict::NotVerified, true,
                              "smoke.Admin.AdminLogin skipped: no admin credentials");
  unverified.checks = {{"smoke.Admin.AdminLogin", "skipped", ""},
                       {"security.Headers.NoSniff", "not selected", ""}};
  auto advisory =
      criterion("split", CriterionVerdict::NotMet, false, "extra.Misc.SplitSecret failed");
  auto manual = criterion("scanned", CriterionVerdict::NotVerified, false,
                          "manual review: attach the scanner's report");
  manual.manual = "attach the scanner's report";
  run.criteria = {met, not_met, unverified, advisory, manual};
  run.signoff.config_file = "kgate.yaml";
  run.signoff.config_sha256 = std::string(64, 'a');
  run.signoff.criteria_file = "criteria.yaml";
  run.signoff.criteria_sha256 = std::string(64, 'b');
  run.signoff.versions = {{"kgate", "0.1.0"},
                          {"image todo/todo-backend backend", "registry.test/todo-app:1.2.3"},
                          {"chart", "todo-1.2.3"}};
  return run;
}

TEST_F(ReportsTest, CriteriaGateTheVerdict) {
  RunResult run = criteria_run();
  run.checks.clear();  // no check gates: the required criteria alone fail the gate
  run.verdict.clear();
  EXPECT_EQ(kgate::verdict_for(run), "FAIL");
  EXPECT_TRUE(kgate::gates(run.criteria[1]));   // required, not met
  EXPECT_TRUE(kgate::gates(run.criteria[2]));   // required, not verified
  EXPECT_FALSE(kgate::gates(run.criteria[3]));  // advisory, not met
  EXPECT_FALSE(kgate::gates(run.criteria[4]));  // advisory, not verified
  run.criteria = {run.criteria[0], run.criteria[3], run.criteria[4]};
  EXPECT_EQ(kgate::verdict_for(run), "PASS");
  const std::string page = reports::html(run);
  EXPECT_NE(page.find("All 1 required release criteria met"), std::string::npos);
}

TEST_F(ReportsTest, JsonCarriesTheCriteriaAndTheSignOff) {
  const auto j = nlohmann::json::parse(reports::json_text(criteria_run()));
  ASSERT_EQ(j["criteria"].size(), 5u);
  const auto& met = j["criteria"][0];
  EXPECT_EQ(met["id"], "health");
  EXPECT_EQ(met["level"], "required");
  EXPECT_EQ(met["verdict"], "met");
  EXPECT_EQ(met["gates"], false);
  EXPECT_EQ(met["figures"][0]["outcome"], "held");
  EXPECT_EQ(met["figures"][0]["measured"], "12.5 ms");
  EXPECT_EQ(j["criteria"][1]["verdict"], "not met");
  EXPECT_EQ(j["criteria"][1]["gates"], true);
  EXPECT_EQ(j["criteria"][1]["reason"], "security.Authz.NoCrossUserRead failed: leaked [REDACTED]");
  EXPECT_EQ(j["criteria"][2]["verdict"], "not verified");
  EXPECT_EQ(j["criteria"][2]["checks"][1]["status"], "not selected");
  EXPECT_EQ(j["criteria"][3]["level"], "advisory");
  EXPECT_EQ(j["criteria"][4]["manual"], "attach the scanner's report");
  EXPECT_EQ(j["signoff"]["criteria_sha256"], std::string(64, 'b'));
  EXPECT_EQ(j["signoff"]["versions"][1]["value"], "registry.test/todo-app:1.2.3");

  const auto schema = load_schema();
  expect_matches_object_schema(j, schema, schema, "results");
  expect_matches_object_schema(j["signoff"], schema["properties"]["signoff"], schema, "signoff");
  const auto& def = schema["$defs"]["criterion"];
  for (const auto& c : j["criteria"]) {
    expect_matches_object_schema(c, def, schema, "criterion");
    for (const auto& k : c["checks"])
      expect_matches_object_schema(k, def["properties"]["checks"]["items"], schema, "check");
    for (const auto& f : c["figures"])
      expect_matches_object_schema(f, def["properties"]["figures"]["items"], schema, "figure");
  }
  // A run without criteria still has both keys, empty.
  const auto none = nlohmann::json::parse(reports::json_text(sample_run()));
  EXPECT_EQ(none["criteria"], nlohmann::json::array());
  EXPECT_EQ(none["signoff"]["criteria_file"], "");
}

TEST_F(ReportsTest, JunitHasACriteriaTestsuite) {
  const std::string xml = reports::junit_xml(criteria_run());
  std::unique_ptr<XmlNode> root;
  ASSERT_NO_THROW(root = parse_xml(xml)) << xml;
  const XmlNode* suite = nullptr;
  for (const auto* s : root->all("testsuite"))
    if (s->at("name") == "criteria") suite = s;
  ASSERT_NE(suite, nullptr) << xml;
  EXPECT_EQ(suite->at("tests"), "5");
  EXPECT_EQ(suite->at("failures"), "2");  // what fails the gate: required not met / not verified
  EXPECT_EQ(suite->at("skipped"), "1");   // advisory not verified
  EXPECT_EQ(root->at("tests"), "9");      // 4 checks + 5 criteria
  EXPECT_EQ(root->at("failures"), "4");
  EXPECT_EQ(props_of(*suite).at("kgate.criteria_sha256"), std::string(64, 'b'));
  EXPECT_EQ(props_of(*suite).at("version: chart"), "todo-1.2.3");
  const auto cases = suite->all("testcase");
  ASSERT_EQ(cases.size(), 5u);
  EXPECT_EQ(cases[0]->at("name"), "health");
  EXPECT_EQ(cases[0]->first("failure"), nullptr);
  ASSERT_NE(cases[1]->first("failure"), nullptr);
  EXPECT_EQ(cases[1]->first("failure")->at("type"), "not met");
  EXPECT_EQ(cases[1]->first("failure")->at("message"),
            "not met: security.Authz.NoCrossUserRead failed: leaked [REDACTED]");
  ASSERT_NE(cases[2]->first("failure"), nullptr);
  EXPECT_EQ(cases[2]->first("failure")->at("type"), "not verified");
  EXPECT_EQ(cases[3]->first("failure"), nullptr);  // advisory: reported, not a failure
  EXPECT_NE(cases[3]->first("system-out")->text.find("ADVISORY, NOT MET"), std::string::npos);
  ASSERT_NE(cases[4]->first("skipped"), nullptr);
  EXPECT_EQ(props_of(*cases[0]).at("verdict"), "met");
  // No criteria, no criteria testsuite.
  EXPECT_EQ(reports::junit_xml(sample_run()).find("name=\"criteria\""), std::string::npos);
}

TEST_F(ReportsTest, HtmlOpensWithTheCriteriaTableAboveTheSuites) {
  const RunResult run = criteria_run();
  const std::string page = reports::html(run);
  const auto verdict = page.find("id=\"verdict\">FAIL</h1>");
  const auto criteria = page.find("<section id=\"criteria\">");
  const auto suites = page.find("<section id=\"suites\">");
  ASSERT_NE(criteria, std::string::npos);
  EXPECT_LT(verdict, criteria);
  EXPECT_LT(criteria, suites);
  // The sign-off header: target, versions, time, the files' hashes; then signature lines.
  EXPECT_NE(page.find("registry.test/todo-app:1.2.3", criteria), std::string::npos);
  EXPECT_NE(page.find("chart: todo-1.2.3", criteria), std::string::npos);
  EXPECT_NE(page.find(std::string(64, 'a'), criteria), std::string::npos);
  EXPECT_NE(page.find(std::string(64, 'b'), criteria), std::string::npos);
  EXPECT_NE(page.find("2024-05-01T12:00:00Z", criteria), std::string::npos);
  EXPECT_NE(page.find("<div>Signature</div>", criteria), std::string::npos);
  EXPECT_NE(page.find("2 of 3 required criteria not met or not verified"), std::string::npos);
  // One row per criterion, the sentence escaped, the verdicts, the figures, and links to cards.
  EXPECT_NE(page.find("The sentence for health &lt;as written&gt; &amp; signed"),
            std::string::npos);
  EXPECT_NE(page.find("<span class=\"st st-notmet\">NOT MET</span>"), std::string::npos);
  EXPECT_NE(page.find("<span class=\"st st-notverified\">NOT VERIFIED</span>"), std::string::npos);
  EXPECT_NE(page.find("REQUIRED, FAILS THE GATE"), std::string::npos);
  EXPECT_NE(page.find("smoke.Health.BackendHealth.latency &lt; 2s on smoke.Health.BackendHealth: "
                      "12.5 ms (held)"),
            std::string::npos);
  // security.Authz.NoCrossUserRead is the run's second check: its card is #check-2.
  EXPECT_NE(page.find("<a href=\"#check-2\"><code>security.Authz.NoCrossUserRead</code></a>"),
            std::string::npos);
  EXPECT_NE(page.find("id=\"check-2\""), std::string::npos);
  EXPECT_NE(page.find("<code>security.Headers.NoSniff</code>: not selected"), std::string::npos);
  EXPECT_EQ(page.find(kPlantedSecret), std::string::npos);
  // No criteria, no section.
  EXPECT_EQ(reports::html(sample_run()).find("id=\"criteria\""), std::string::npos);
}

}  // namespace

// `kgate collect` rebuilds a run from results.json (as a helm test pod's log carries it) and
// writes the reports again: the round trip must lose nothing the reports show.
TEST_F(ReportsTest, ResultsJsonReadsBackIntoTheSameReports) {
  const RunResult run = sample_run();
  const std::string text = reports::json_text(run);
  const RunResult back = reports::parse_results_json(text);
  EXPECT_EQ(reports::json_text(back), text);
  EXPECT_EQ(reports::junit_xml(back), reports::junit_xml(run));
  EXPECT_EQ(reports::html(back), reports::html(run));
}

// The same with what later parts added to the model: release criteria with their sign-off, and
// tables (the distributed load's per-worker table). `kgate collect` must not drop them.
TEST_F(ReportsTest, ResultsJsonReadsBackCriteriaSignOffAndTables) {
  RunResult run = criteria_run();
  run.checks[0].tables.push_back(
      {"workers", {"worker", "requests"}, {{"0", "502"}, {"1", "502"}, {"2", "501"}}});
  const std::string text = reports::json_text(run);
  const RunResult back = reports::parse_results_json(text);
  ASSERT_EQ(back.criteria.size(), run.criteria.size());
  ASSERT_EQ(back.checks[0].tables.size(), 1u);
  EXPECT_EQ(reports::json_text(back), text);
  EXPECT_EQ(reports::junit_xml(back), reports::junit_xml(run));
  EXPECT_EQ(reports::html(back), reports::html(run));

  auto j = nlohmann::json::parse(text);
  j["criteria"][1]["verdict"] = "probably";
  try {
    reports::parse_results_json(j.dump());
    FAIL() << "an unknown verdict was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("criteria[1].verdict"), std::string::npos) << e.what();
  }
}

TEST_F(ReportsTest, ResultsJsonReadErrorsNameTheJsonPath) {
  auto j = nlohmann::json::parse(reports::json_text(sample_run()));
  j["checks"][1]["status"] = 7;
  try {
    reports::parse_results_json(j.dump());
    FAIL() << "a number as a status was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("checks[1].status"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reports::parse_results_json("[]"), std::runtime_error);
}
