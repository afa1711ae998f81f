#include "text.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

#include "kgate/redact.hpp"

#ifndef KGATE_VERSION_DEFAULT
#define KGATE_VERSION_DEFAULT "unknown"
#endif

namespace kgate::reports::detail {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one code point at text[i]; returns its length, or 0 when the bytes there are not
// well-formed UTF-8 (overlongs, surrogates and values above U+10FFFF are not).
std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  return len;
}

bool allowed(char32_t cp) {
  if (cp == 0x9 || cp == 0xA || cp == 0xD) return true;
  if (cp < 0x20) return false;                 // C0 controls: not XML 1.0 characters
  if (cp >= 0x7F && cp <= 0x9F) return false;  // DEL and C1 controls: HTML parse errors
  if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  if (cp >= 0xFDD0 && cp <= 0xFDEF) return false;  // noncharacters
  if ((cp & 0xFFFE) == 0xFFFE) return false;       // U+xFFFE, U+xFFFF in every plane
  return cp <= 0x10FFFF;
}

std::string clean_string(const std::string& s) {
  return clean(s);
}

}  // namespace

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp = 0;
    const std::size_t len = decode_utf8(text, i, cp);
    if (len == 0) {
      append_utf8(out, kReplacement);
      ++i;
      continue;
    }
    if (allowed(cp)) out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

std::string clean(std::string_view text) {
  const std::string once = kgate::redact(text);
  std::string sane = sanitize(once);
  if (sane == once) return sane;
  // Sanitising changed something: redact again, then sanitise what redaction produced.
  return sanitize(kgate::redact(sane));
}

namespace {

std::vector<std::string> clean_all(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  out.reserve(in.size());
  for (const auto& s : in) out.push_back(clean_string(s));
  return out;
}

std::vector<Property> clean_props(const std::vector<Property>& in) {
  std::vector<Property> out;
  for (const auto& p : in) out.push_back({clean_string(p.name), clean_string(p.value)});
  return out;
}

std::vector<Scalar> clean_scalars(const std::vector<Scalar>& in) {
  std::vector<Scalar> out;
  for (const auto& s : in) {
    // A measurement that is not a finite number is not shown as one.
    out.push_back(
        {clean_string(s.name), std::isfinite(s.value) ? s.value : 0.0, clean_string(s.unit)});
  }
  return out;
}

std::vector<Chart> clean_charts(const std::vector<Chart>& in) {
  std::vector<Chart> out;
  for (const auto& ch : in) {
    Chart x;
    x.title = clean_string(ch.title);
    x.unit = clean_string(ch.unit);
    x.labels = clean_all(ch.labels);
    x.timeline = ch.timeline;
    for (const auto& s : ch.series) {
      Series y;
      y.name = clean_string(s.name);
      // Points with a time or value that is not finite are dropped, pairs kept aligned.
      const bool bars = s.t.empty();
      for (std::size_t i = 0; i < s.values.size(); ++i) {
        const double v = s.values[i];
        if (bars) {
          y.values.push_back(std::isfinite(v) ? v : 0.0);
        } else if (i < s.t.size() && std::isfinite(s.t[i]) && std::isfinite(v)) {
          y.t.push_back(s.t[i]);
          y.values.push_back(v);
        }
      }
      x.series.push_back(std::move(y));
    }
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<Event> clean_events(const std::vector<Event>& in) {
  std::vector<Event> out;
  for (const auto& e : in)
    out.push_back({std::isfinite(e.t) ? e.t : 0.0, clean_string(e.kind), clean_string(e.object),
                   clean_string(e.message)});
  return out;
}

}  // namespace

RunResult cleaned(const RunResult& run) {
  const auto c = [](const std::string& s) { return clean_string(s); };
  RunResult out;
  out.tool_version = c(run.tool_version);
  out.target = c(run.target);
  out.started_at = c(run.started_at);
  out.started_epoch_ms = finite_or_zero(run.started_epoch_ms);
  out.duration_seconds = finite_or_zero(run.duration_seconds);
  out.aborted = run.aborted;
  out.abort_reason = c(run.abort_reason);
  out.fail_on_skip = run.fail_on_skip;
  out.exit_code = run.exit_code;
  out.verdict = c(run.verdict);
  out.suites = clean_all(run.suites);
  out.selection = c(run.selection);
  out.properties = clean_props(run.properties);
  for (const auto& in : run.suite_results) {
    SuiteResult s;
    s.name = c(in.name);
    s.title = c(in.title);
    s.properties = clean_props(in.properties);
    s.scalars = clean_scalars(in.scalars);
    s.charts = clean_charts(in.charts);
    s.events = clean_events(in.events);
    s.error = c(in.error);
    out.suite_results.push_back(std::move(s));
  }
  out.checks.reserve(run.checks.size());
  for (const auto& in : run.checks) {
    CheckResult k;
    k.id = c(in.id);
    k.suite = c(in.suite);
    k.classname = c(in.classname);
    k.name = c(in.name);
    k.title = c(in.title);
    k.severity = c(in.severity);
    k.reference = c(in.reference);
    k.tags = clean_all(in.tags);
    k.status = in.status;
    k.started_s = finite_or_zero(in.started_s);
    k.seconds = finite_or_zero(in.seconds);
    k.message = c(in.message);
    k.detail = c(in.detail);
    k.properties = clean_props(in.properties);
    k.scalars = clean_scalars(in.scalars);
    k.charts = clean_charts(in.charts);
    k.events = clean_events(in.events);
    for (const auto& t : in.tables) {
      Table x{c(t.title), clean_all(t.columns), {}};
      for (const auto& row : t.rows) {
        auto cells = clean_all(row);
        cells.resize(x.columns.size());  // every row as wide as the headings
        x.rows.push_back(std::move(cells));
      }
      k.tables.push_back(std::move(x));
    }
    for (const auto& t : in.thresholds)
      k.thresholds.push_back({c(t.expression), c(t.measured), t.passed});
    k.evidence.reserve(in.evidence.size());
    for (const auto& e : in.evidence) {
      Evidence x;
      x.method = c(e.method);
      x.url = c(e.url);
      x.request_excerpt = c(e.request_excerpt);
      x.status = e.status;
      x.response_excerpt = c(e.response_excerpt);
      x.elapsed_ms = finite_or_zero(e.elapsed_ms);
      x.note = c(e.note);
      k.evidence.push_back(std::move(x));
    }
    out.checks.push_back(std::move(k));
  }
  for (const auto& in : run.criteria) {
    CriterionResult k;
    k.id = c(in.id);
    k.text = c(in.text);
    k.source = c(in.source);
    k.required = in.required;
    k.manual = c(in.manual);
    k.awaits = c(in.awaits);
    k.named_checks = clean_all(in.named_checks);
    k.named_figures = clean_all(in.named_figures);
    k.verdict = in.verdict;
    k.reason = c(in.reason);
    for (const auto& x : in.checks) k.checks.push_back({c(x.id), c(x.status), c(x.message)});
    for (const auto& f : in.figures)
      k.figures.push_back({c(f.expression), c(f.check), c(f.figure), c(f.measured), c(f.outcome)});
    out.criteria.push_back(std::move(k));
  }
  out.signoff.config_file = c(run.signoff.config_file);
  out.signoff.config_sha256 = c(run.signoff.config_sha256);
  out.signoff.criteria_file = c(run.signoff.criteria_file);
  out.signoff.criteria_sha256 = c(run.signoff.criteria_sha256);
  out.signoff.versions = clean_props(run.signoff.versions);
  out.signoff.versions_note = c(run.signoff.versions_note);
  return out;
}

std::string xml_escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\'':
        out += attribute ? "&apos;" : "'";
        break;
      // Attribute-value normalisation would turn these into spaces; \r in text would be
      // folded into \n by the parser. Character references keep them.
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out.push_back(ch);
    }
  }
  return out;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\r':
        break;  // CRLF bodies: keep one line break
      default:
        out.push_back(ch);
    }
  }
  return out;
}

bool truncate_utf8(std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return false;
  std::size_t cut = max_bytes;
  // Step back over continuation bytes so a multi-byte sequence is never split.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return true;
}

double finite_or_zero(double value) {
  if (!std::isfinite(value) || value < 0) return 0;
  return value;
}

std::string seconds_attr(double seconds) {
  return fmt::format("{:.3f}", finite_or_zero(seconds));
}

std::string human_duration(double seconds) {
  seconds = finite_or_zero(seconds);
  if (seconds < 1)
    return fmt::format("{} ms", static_cast<long long>(std::llround(seconds * 1000)));
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  const auto total = static_cast<long long>(std::llround(seconds));
  if (total < 3600) return fmt::format("{} min {:02} s", total / 60, total % 60);
  return fmt::format("{} h {:02} min", total / 3600, (total % 3600) / 60);
}

std::string verdict_of(const RunResult& run) {
  if (!run.verdict.empty()) return run.verdict;
  return verdict_for(run);
}

std::vector<std::string> suite_order(const RunResult& run) {
  std::vector<std::string> order;
  const auto add = [&order](const std::string& s) {
    for (const auto& o : order)
      if (o == s) return;
    order.push_back(s);
  };
  for (const auto& s : run.suites) add(s);
  for (const auto& c : run.checks) add(c.suite);
  return order;
}

Counts counts_for(const RunResult& run, const std::string* suite) {
  Counts n;
  for (const auto& c : run.checks) {
    if (suite && c.suite != *suite) continue;
    ++n.total;
    n.seconds += finite_or_zero(c.seconds);
    switch (c.status) {
      case CheckStatus::Passed:
        ++n.passed;
        break;
      case CheckStatus::Failed:
        ++n.failed;
        break;
      case CheckStatus::Skipped:
        ++n.skipped;
        break;
      case CheckStatus::Warning:
        ++n.warnings;
        break;
      case CheckStatus::Inconclusive:
        ++n.inconclusive;
        break;
      case CheckStatus::Error:
        ++n.errors;
        break;
    }
  }
  return n;
}

std::string short_number(double v, int decimals) {
  std::string s = fmt::format("{:.{}f}", finite_or_zero(std::fabs(v)), decimals);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return (v < 0 && s != "0" ? "-" : "") + s;
}

std::string scalar_text(const Scalar& s) {
  const double a = std::fabs(s.value);
  const int decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  std::string out = short_number(s.value, decimals);
  if (!s.unit.empty()) out += (s.unit == "%" ? "" : " ") + s.unit;
  return out;
}

std::string tool_version(const RunResult& run) {
  if (!run.tool_version.empty()) return run.tool_version;
  return clean(KGATE_VERSION_DEFAULT);
}

}  // namespace kgate::reports::detail
