// The HTML report: one self-contained file for release managers. Inline CSS and inline SVG
// only, no script, and a Content-Security-Policy that forbids every network load.
// Order: verdict banner, per-suite summary, failed checks, skipped checks, passed (collapsed).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kgate/reports.hpp"
#include "text.hpp"

namespace kgate::reports {
namespace {

using detail::Counts;

// Excerpts larger than this are cut in the HTML (results.json keeps them whole).
constexpr std::size_t kMaxBlockBytes = 64 * 1024;

std::string esc(std::string_view s) {
  return detail::html_escape(s);
}

constexpr std::string_view kStyle = R"css(
:root{--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--skip:#9a6700;
--skip-bg:#fff8c5;--abort:#bc4c00;--abort-bg:#fff1e5;--error:#8250df;--error-bg:#fbefff;
--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--page:#eef1f5;--card:#fff;
--mono:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
*{box-sizing:border-box}
html{color-scheme:light}
body{margin:0;background:var(--page);color:var(--ink);
font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:24px 20px 40px}
h1,h2,h3,h4{line-height:1.25;margin:0}
h2{font-size:1.2rem;margin:32px 0 12px;display:flex;align-items:center;gap:10px}
h2 .n{font-size:.85rem;font-weight:600;color:var(--muted);background:#fff;border:1px solid var(--line);border-radius:999px;padding:1px 10px}
code,pre{font-family:var(--mono);font-size:.85em}
a{color:#0969da}
.banner{display:flex;align-items:center;gap:28px;border-radius:12px;padding:24px 28px;color:#fff;box-shadow:0 1px 3px rgba(0,0,0,.12)}
.v-pass .banner{background:linear-gradient(135deg,#1a7f37,#2da44e)}
.v-fail .banner{background:linear-gradient(135deg,#a40e26,#cf222e)}
.v-aborted .banner{background:linear-gradient(135deg,#953800,#bc4c00)}
.v-error .banner{background:linear-gradient(135deg,#512a97,#8250df)}
.v-other .banner{background:linear-gradient(135deg,#424a53,#6e7781)}
.banner-main{flex:1;min-width:0}
.eyebrow{font-size:.8rem;letter-spacing:.08em;text-transform:uppercase;opacity:.85;font-weight:600}
.verdict{font-size:3.2rem;font-weight:800;letter-spacing:.02em;margin:2px 0 4px}
.headline{font-size:1.15rem;font-weight:500;margin:0 0 14px}
.pills{display:flex;flex-wrap:wrap;gap:8px}
.pill{background:#fff;color:var(--ink);border-radius:999px;padding:3px 12px 3px 10px;font-weight:600;font-size:.9rem;white-space:nowrap;box-shadow:0 1px 2px rgba(0,0,0,.15)}
.pill i{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:7px;vertical-align:-1px}
.pill.total{background:rgba(255,255,255,.16);color:#fff;box-shadow:none;border:1px solid rgba(255,255,255,.45)}
.donut{flex:none;background:#fff;border-radius:50%;padding:6px}
.facts{display:grid;grid-template-columns:minmax(0,2.2fr) minmax(0,1.75fr) minmax(0,.9fr) minmax(0,1.45fr) minmax(0,.75fr) minmax(0,.7fr);background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden;margin:16px 0 0}
.facts div{padding:10px 14px;min-width:0;box-shadow:-1px -1px 0 var(--line)}
.facts dt{white-space:nowrap;font-size:.75rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);font-weight:600}
.facts dd{margin:2px 0 0;font-weight:600;overflow-wrap:anywhere}
.alert{margin:16px 0 0;padding:12px 16px;border-radius:10px;border:1px solid var(--abort);background:var(--abort-bg);color:#5c2200}
.alert strong{color:var(--abort)}
.jump{margin:14px 0 0;font-size:.9rem;color:var(--muted)}
.jump a{margin-right:14px;font-weight:600}
table{border-collapse:collapse;width:100%}
.summary{background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
.summary th,.summary td{padding:9px 14px;text-align:right;border-bottom:1px solid var(--line);white-space:nowrap}
.summary th{background:var(--soft);font-size:.78rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.summary th:first-child,.summary td:first-child{text-align:left}
.summary td.bar{width:34%;text-align:left}
.summary td.bar svg{display:block;border-radius:4px;overflow:hidden}
.summary tfoot td{font-weight:700;background:var(--soft);border-bottom:0}
.summary .zero{color:#8c959f}
.summary .nf{color:var(--fail);font-weight:700}
.summary .ns{color:var(--skip);font-weight:700}
.summary .nw{color:#bc4c00;font-weight:700}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:8px;vertical-align:0}
.d-pass{background:var(--pass)}.d-fail{background:var(--fail)}.d-skip{background:var(--skip)}.d-warn{background:#bc4c00}.d-none{background:#afb8c1}
.check{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:10px;padding:14px 18px;margin:0 0 12px;break-inside:avoid}
.c-failed{border-left-color:var(--fail)}.c-skipped{border-left-color:var(--skip)}.c-passed{border-left-color:var(--pass)}.c-warning{border-left-color:#bc4c00}
.check-head{display:flex;align-items:flex-start;gap:10px;flex-wrap:wrap}
.check-head h3{font-size:1.02rem;flex:1;min-width:240px;overflow-wrap:anywhere}
.st{font-size:.72rem;font-weight:800;letter-spacing:.06em;border-radius:6px;padding:3px 8px;white-space:nowrap}
.st-failed{background:var(--fail-bg);color:var(--fail)}.st-skipped{background:var(--skip-bg);color:var(--skip)}.st-passed{background:var(--pass-bg);color:var(--pass)}.st-warning{background:#fff1e5;color:#bc4c00}
.badge{font-size:.72rem;font-weight:700;border-radius:6px;padding:3px 8px;white-space:nowrap;border:1px solid var(--line);background:var(--soft);color:var(--ink)}
.sev-critical{background:#82071e;border-color:#82071e;color:#fff}
.sev-high{background:var(--fail);border-color:var(--fail);color:#fff}
.sev-medium{background:#fb8f44;border-color:#fb8f44;color:#3d1300}
.sev-low{background:#fff8c5;border-color:#d4a72c;color:#4d2d00}
.sev-info{background:#ddf4ff;border-color:#54aeff;color:#0a3069}
.owasp{background:#ddf4ff;border-color:#54aeff;color:#0a3069}
.time{color:var(--muted);font-size:.85rem;white-space:nowrap;margin-left:auto}
.check-id{color:var(--muted);font-size:.85rem;margin:4px 0 0;overflow-wrap:anywhere}
.suite-tag{display:inline-block;background:var(--soft);border:1px solid var(--line);border-radius:5px;padding:0 6px;margin-right:6px;font-weight:600;color:var(--ink)}
.message{margin:10px 0 0;font-weight:600;white-space:pre-wrap;overflow-wrap:anywhere}
.c-failed .message{color:#82071e}
.c-skipped .message{color:#6b4a00}
.c-warning .message{color:#762c00}
pre{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin:8px 0 0;white-space:pre-wrap;overflow-wrap:anywhere;max-height:26em;overflow:auto}
pre.detail{background:#fff5f5;border-color:#ffcecb}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px;margin:12px 0 0}
.chart{margin:0;background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:8px 10px}
.chart figcaption{font-weight:700;font-size:.85rem;margin-bottom:4px}.chart .unit{color:var(--muted);font-weight:400}
.legend{font-size:.78rem;color:var(--muted)}.legend span{margin-right:12px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:3px;margin-right:4px;vertical-align:middle}
h4{font-size:.78rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:14px 0 6px}
.props{font-size:.9rem;border:1px solid var(--line);border-radius:8px;overflow:hidden}
.props th,.props td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
.props th{background:var(--soft);font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.props tr:last-child td{border-bottom:0}
.props td:first-child{font-family:var(--mono);font-size:.85em;width:38%}
.props td.thr{color:var(--muted)}
.props td.m{font-weight:700}
ol.ev{list-style:none;margin:0;padding:0}
ol.ev li{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:0 0 8px}
.ex-line{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}
.method{font-family:var(--mono);font-weight:800;font-size:.8rem;background:#24292f;color:#fff;border-radius:5px;padding:1px 7px}
.url{flex:1;min-width:200px;overflow-wrap:anywhere}
.http{font-family:var(--mono);font-weight:800;font-size:.8rem;border-radius:5px;padding:1px 7px}
.h2xx{background:var(--pass-bg);color:var(--pass)}.h3xx{background:#ddf4ff;color:#0a3069}
.h4xx{background:var(--skip-bg);color:#7d4e00}.h5xx,.h0{background:var(--fail-bg);color:var(--fail)}
.ms{color:var(--muted);font-size:.85rem;white-space:nowrap}
.note{margin:6px 0 0;font-size:.9rem;color:#5c2200;background:var(--abort-bg);border-radius:6px;padding:3px 8px;display:inline-block;overflow-wrap:anywhere}
details>summary{cursor:pointer;color:#0969da;font-size:.88rem;font-weight:600;margin:6px 0 0}
details.passed{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 16px}
details.passed>summary{font-size:1rem;margin:0}
details.passed[open]>summary{margin-bottom:12px}
.trunc{color:var(--muted);font-style:italic}
.empty{color:var(--muted);background:var(--card);border:1px dashed var(--line);border-radius:10px;padding:14px 18px}
footer{color:var(--muted);font-size:.82rem;margin:36px 0 0;border-top:1px solid var(--line);padding-top:12px}
@media (max-width:900px){.facts{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}}
@media (max-width:700px){.banner{flex-direction:column;align-items:flex-start}.verdict{font-size:2.4rem}.summary td.bar{display:none}}
@media print{body{background:#fff}.banner{box-shadow:none;-webkit-print-color-adjust:exact;print-color-adjust:exact}pre{max-height:none}}
)css";

struct Verdict {
  std::string word;      // "PASS"
  std::string css;       // "v-pass"
  std::string headline;  // a sentence
};

Verdict describe(const RunResult& run, const Counts& n) {
  Verdict v;
  v.word = detail::verdict_of(run);
  if (v.word == "PASS") {
    v.css = "v-pass";
    v.headline = n.skipped > 0 || n.warnings > 0
                     ? fmt::format(
                           "Release gate passed: {} of {} checks passed, {} with "
                           "warnings, {} skipped",
                           n.passed, n.total, n.warnings, n.skipped)
                     : fmt::format("Release gate passed: all {} checks passed", n.total);
  } else if (v.word == "FAIL") {
    v.css = "v-fail";
    v.headline = fmt::format("Release gate failed: {} of {} {} failed", n.failed, n.total,
                             n.total == 1 ? "check" : "checks");
  } else if (v.word == "ABORTED") {
    v.css = "v-aborted";
    v.headline = "Run aborted: results are partial, the release is not approved";
  } else if (v.word == "ERROR") {
    v.css = "v-error";
    v.headline = "kgate could not complete the run: the release is not approved";
  } else {
    v.css = "v-other";
    v.headline = "Verdict reported by kgate";
  }
  return v;
}

std::string pretty_time(std::string t) {
  // "2024-05-01T12:00:00Z" -> "2024-05-01 12:00:00 UTC"; anything else is shown as it is.
  if (t.size() >= 20 && t[10] == 'T' && t.back() == 'Z') {
    t[10] = ' ';
    t.pop_back();
    t += " UTC";
  }
  return t;
}

std::string fmt_num(double v) {
  // At most 2 decimals, no trailing zeros.
  std::string s = fmt::format("{:.2f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// A donut of passed/failed/skipped; the circle's circumference is 100 so dash lengths are
// percentages.
std::string donut(const Counts& n) {
  std::string out =
      "<svg class=\"donut\" width=\"132\" height=\"132\" viewBox=\"0 0 42 42\" role=\"img\" "
      "aria-labelledby=\"donut-title\" xmlns=\"http://www.w3.org/2000/svg\">";
  out +=
      fmt::format("<title id=\"donut-title\">{} passed, {} failed, {} warnings, {} skipped</title>",
                  n.passed, n.failed, n.warnings, n.skipped);
  out +=
      "<circle cx=\"21\" cy=\"21\" r=\"15.9155\" fill=\"none\" stroke=\"#e6e9ed\" "
      "stroke-width=\"5\"/>";
  double offset = 25;  // start at 12 o'clock
  const struct {
    int count;
    const char* colour;
  } parts[] = {{n.passed, "#1a7f37"},
               {n.failed, "#cf222e"},
               {n.warnings, "#bc4c00"},
               {n.skipped, "#d4a72c"}};
  for (const auto& p : parts) {
    if (p.count <= 0 || n.total <= 0) continue;
    const double pct = 100.0 * p.count / n.total;
    out += fmt::format(
        "<circle cx=\"21\" cy=\"21\" r=\"15.9155\" fill=\"none\" stroke=\"{}\" stroke-width=\"5\" "
        "stroke-dasharray=\"{} {}\" stroke-dashoffset=\"{}\"/>",
        p.colour, fmt_num(pct), fmt_num(100 - pct), fmt_num(offset));
    offset -= pct;
  }
  out += fmt::format(
      "<text x=\"21\" y=\"21\" text-anchor=\"middle\" font-size=\"7\" font-weight=\"700\" "
      "fill=\"#1f2328\" font-family=\"sans-serif\">{}/{}</text>"
      "<text x=\"21\" y=\"27.5\" text-anchor=\"middle\" font-size=\"3.6\" fill=\"#59636e\" "
      "font-family=\"sans-serif\">passed</text></svg>",
      n.passed, n.total);
  return out;
}

// A stacked horizontal bar of a suite's results.
std::string bar(const Counts& n) {
  constexpr double kWidth = 240;
  std::string out = fmt::format(
      "<svg width=\"100%\" height=\"12\" viewBox=\"0 0 {} 12\" preserveAspectRatio=\"none\" "
      "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"><title>{} passed, {} failed, {} "
      "skipped</title><rect width=\"{}\" height=\"12\" rx=\"3\" fill=\"#e6e9ed\"/>",
      kWidth, n.passed, n.failed, n.skipped, kWidth);
  double x = 0;
  const struct {
    int count;
    const char* colour;
  } parts[] = {{n.passed, "#2da44e"},
               {n.failed, "#cf222e"},
               {n.warnings, "#bc4c00"},
               {n.skipped, "#d4a72c"}};
  for (const auto& p : parts) {
    if (p.count <= 0 || n.total <= 0) continue;
    const double w = kWidth * p.count / n.total;
    out += fmt::format("<rect x=\"{}\" width=\"{}\" height=\"12\" fill=\"{}\"/>", fmt_num(x),
                       fmt_num(w), p.colour);
    x += w;
  }
  out += "</svg>";
  return out;
}

std::string num_cell(int v, const char* cls) {
  if (v == 0) return "<td class=\"zero\">0</td>";
  return fmt::format("<td{}>{}</td>", *cls ? fmt::format(" class=\"{}\"", cls) : "", v);
}

std::string summary_table(const RunResult& run) {
  std::string out =
      "<table class=\"summary\"><thead><tr><th>Suite</th><th>Checks</th><th>Passed</th>"
      "<th>Failed</th><th>Warnings</th><th>Skipped</th><th>Time</th><th>Result</th></tr></"
      "thead><tbody>";
  for (const std::string& suite : detail::suite_order(run)) {
    const Counts n = detail::counts_for(run, &suite);
    const char* dot = n.failed > 0     ? "d-fail"
                      : n.warnings > 0 ? "d-warn"
                      : n.passed > 0   ? "d-pass"
                      : n.skipped > 0  ? "d-skip"
                                       : "d-none";
    out += fmt::format("<tr><td><span class=\"dot {}\"></span>{}</td>", dot,
                       suite.empty() ? std::string("(no suite)") : esc(suite));
    out += num_cell(n.total, "") + num_cell(n.passed, "") + num_cell(n.failed, "nf") +
           num_cell(n.warnings, "nw") + num_cell(n.skipped, "ns");
    out +=
        fmt::format("<td>{}</td><td class=\"bar\">{}</td></tr>", detail::human_duration(n.seconds),
                    n.total > 0 ? bar(n) : "<span class=\"zero\">no checks ran</span>");
  }
  const Counts all = detail::counts_for(run, nullptr);
  out += "</tbody><tfoot><tr><td>All suites</td>";
  out += fmt::format(
      "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"bar\">{}</td>",
      all.total, all.passed, all.failed, all.warnings, all.skipped,
      detail::human_duration(all.seconds), all.total > 0 ? bar(all) : "");
  out += "</tr></tfoot></table>";
  return out;
}

std::string block(std::string text, const char* cls) {
  const std::size_t full = text.size();
  const bool cut = detail::truncate_utf8(text, kMaxBlockBytes);
  std::string out = fmt::format("<pre{}>", *cls ? fmt::format(" class=\"{}\"", cls) : "");
  out += esc(text);
  if (cut)
    out += fmt::format(
        "\n<span class=\"trunc\">… {} more bytes not shown (the JSON report has the full "
        "text)</span>",
        full - text.size());
  out += "</pre>";
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "latency.p95.threshold" pairs with "latency.p95" (also _threshold, .limit, _limit, .budget,
// _budget, .max_allowed): the table then shows measured and threshold side by side.
std::optional<std::string> threshold_base(std::string_view name) {
  static constexpr std::string_view kSuffixes[] = {".threshold", "_threshold", ".limit",
                                                   "_limit",     ".budget",    "_budget"};
  for (const auto suffix : kSuffixes)
    if (ends_with(name, suffix) && name.size() > suffix.size())
      return std::string(name.substr(0, name.size() - suffix.size()));
  return std::nullopt;
}

std::string properties_table(const CheckResult& c) {
  const auto& props = c.properties;
  if (props.empty()) return {};
  const auto find = [&](const std::string& name) -> const Property* {
    for (const auto& p : props)
      if (p.name == name) return &p;
    return nullptr;
  };
  // For each measured property, the index of its threshold; thresholds used in a pair are
  // not listed on their own.
  std::vector<const Property*> threshold_of(props.size(), nullptr);
  std::vector<bool> paired(props.size(), false);
  for (std::size_t i = 0; i < props.size(); ++i) {
    const auto base = threshold_base(props[i].name);
    if (!base) continue;
    const Property* measured = find(*base);
    if (!measured) continue;
    const auto m = static_cast<std::size_t>(measured - props.data());
    if (threshold_of[m]) continue;
    threshold_of[m] = &props[i];
    paired[i] = true;
  }
  const bool any_pair = std::any_of(paired.begin(), paired.end(), [](bool b) { return b; });

  std::string out = "<h4>Measurements</h4><table class=\"props\"><thead><tr><th>Property</th>";
  out += any_pair ? "<th>Measured</th><th>Threshold</th>" : "<th>Value</th>";
  out += "</tr></thead><tbody>";
  for (std::size_t i = 0; i < props.size(); ++i) {
    if (paired[i]) continue;
    out += fmt::format("<tr><td>{}</td><td{}>{}</td>", esc(props[i].name),
                       threshold_of[i] ? " class=\"m\"" : "", esc(props[i].value));
    if (any_pair)
      out += fmt::format("<td class=\"thr\">{}</td>",
                         threshold_of[i] ? esc(threshold_of[i]->value) : std::string());
    out += "</tr>";
  }
  out += "</tbody></table>";
  return out;
}

std::string http_class(int status) {
  if (status <= 0) return "h0";
  if (status < 300) return "h2xx";
  if (status < 400) return "h3xx";
  if (status < 500) return "h4xx";
  return "h5xx";
}

std::string evidence_list(const CheckResult& c, bool open) {
  if (c.evidence.empty()) return {};
  std::string out = fmt::format("<h4>Evidence ({} {})</h4><ol class=\"ev\">", c.evidence.size(),
                                c.evidence.size() == 1 ? "request" : "requests");
  for (const Evidence& e : c.evidence) {
    out += "<li><div class=\"ex-line\">";
    out += fmt::format("<span class=\"method\">{}</span>",
                       e.method.empty() ? std::string("?") : esc(e.method));
    out += fmt::format("<code class=\"url\">{}</code>", esc(e.url));
    out += fmt::format("<span class=\"http {}\">{}</span>", http_class(e.status),
                       e.status > 0 ? std::to_string(e.status) : std::string("no answer"));
    out += fmt::format("<span class=\"ms\">{:.1f} ms</span></div>", e.elapsed_ms);
    if (!e.note.empty()) out += fmt::format("<div class=\"note\">{}</div>", esc(e.note));
    const char* attr = open ? " open" : "";
    if (!e.request_excerpt.empty())
      out += fmt::format("<details{}><summary>Request</summary>{}</details>", attr,
                         block(e.request_excerpt, ""));
    if (!e.response_excerpt.empty())
      out += fmt::format("<details{}><summary>Response</summary>{}</details>", attr,
                         block(e.response_excerpt, ""));
    out += "</li>";
  }
  out += "</ol>";
  return out;
}

std::string severity_class(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const char* known : {"critical", "high", "medium", "low", "info"})
    if (s == known) return std::string("sev-") + known;
  return "";
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  return s;
}

// A step for axis labels: 1, 2 or 5 times a power of ten, about max/4.
double nice_step(double max) {
  if (max <= 0) return 1;
  double raw = max / 4;
  double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string axis_number(double v) {
  if (v >= 1000) return fmt::format("{:.0f}k", v / 1000);
  if (v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:.1f}", v);
}

// Lines over time or bars over labels, as inline SVG: the report stays one file.
std::string chart_svg(const Chart& ch) {
  static constexpr const char* kColours[] = {"#0969da", "#bc4c00", "#cf222e",
                                             "#8250df", "#1a7f37", "#9a6700"};
  constexpr double kW = 640, kH = 190, kLeft = 48, kRight = 10, kTop = 10, kBottom = 24;
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  std::size_t points = 0;
  double max = 0;
  for (const auto& s : ch.series) {
    points = std::max(points, s.values.size());
    for (double v : s.values) max = std::max(max, v);
  }
  if (points == 0) return "";
  const double step = nice_step(max);
  const double top = std::max(step, std::ceil(max / step) * step);
  std::string out = fmt::format(
      "<figure class=\"chart\"><figcaption>{} <span class=\"unit\">({})</span></figcaption>"
      "<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
      esc(ch.title), esc(ch.unit), kW, kH, esc(ch.title));
  for (double y = 0; y <= top + step / 2; y += step) {
    double py = kTop + plot_h - plot_h * y / top;
    out += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#d0d7de\" "
        "stroke-width=\"0.6\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\" "
        "fill=\"#59636e\">{}</text>",
        kLeft, kW - kRight, fmt_num(py), fmt_num(py), kLeft - 4, fmt_num(py + 3), axis_number(y));
  }
  if (!ch.labels.empty()) {  // bars: groups per label, one bar per series
    const double group = plot_w / static_cast<double>(points);
    const double bar =
        group * 0.8 / static_cast<double>(std::max<std::size_t>(1, ch.series.size()));
    for (std::size_t i = 0; i < points; ++i) {
      for (std::size_t s = 0; s < ch.series.size(); ++s) {
        double v = i < ch.series[s].values.size() ? ch.series[s].values[i] : 0;
        double h = plot_h * v / top;
        out += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {}: "
            "{}</title></rect>",
            fmt_num(kLeft + group * static_cast<double>(i) + group * 0.1 +
                    bar * static_cast<double>(s)),
            fmt_num(kTop + plot_h - h), fmt_num(bar * 0.95), fmt_num(h), kColours[s % 6],
            esc(ch.series[s].name), esc(i < ch.labels.size() ? ch.labels[i] : ""), axis_number(v));
      }
      out += fmt::format(
          "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" "
          "fill=\"#59636e\">{}</text>",
          fmt_num(kLeft + group * (static_cast<double>(i) + 0.5)), kH - 8,
          esc(i < ch.labels.size() ? ch.labels[i] : ""));
    }
  } else {  // lines over time
    const double span = std::max<double>(1, static_cast<double>(points - 1));
    for (std::size_t s = 0; s < ch.series.size(); ++s) {
      std::string path;
      for (std::size_t i = 0; i < ch.series[s].values.size(); ++i) {
        double px = kLeft + plot_w * static_cast<double>(i) / span;
        double py = kTop + plot_h - plot_h * ch.series[s].values[i] / top;
        path += fmt::format("{}{},{}", i == 0 ? "M" : " L", fmt_num(px), fmt_num(py));
      }
      out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"/>", path,
                         kColours[s % 6]);
    }
    const double total_s = ch.interval_s * span;
    const double xstep = nice_step(total_s);
    for (double t = 0; t <= total_s + 1e-9; t += xstep)
      out += fmt::format(
          "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\" "
          "fill=\"#59636e\">{}s</text>",
          fmt_num(kLeft + plot_w * t / std::max(total_s, 1e-9)), kH - 8, axis_number(t));
  }
  out += "</svg><div class=\"legend\">";
  for (std::size_t s = 0; s < ch.series.size(); ++s)
    out += fmt::format("<span><i style=\"background:{}\"></i>{}</span>", kColours[s % 6],
                       esc(ch.series[s].name));
  out += "</div></figure>";
  return out;
}

std::string check_card(const CheckResult& c, std::size_t index) {
  const std::string status = to_string(c.status);
  std::string out = fmt::format("<article class=\"check c-{}\" id=\"check-{}\">", status, index);
  out += "<div class=\"check-head\">";
  out += fmt::format("<span class=\"st st-{}\">{}</span>", status, upper(status));
  out += fmt::format("<h3>{}</h3>", esc(c.title.empty() ? c.name : c.title));
  if (!c.severity.empty())
    out += fmt::format("<span class=\"badge {}\" title=\"Severity\">{}</span>",
                       severity_class(c.severity), esc(upper(c.severity)));
  if (!c.owasp.empty())
    out += fmt::format(
        "<span class=\"badge owasp\" title=\"OWASP API Security Top 10\">OWASP {}</span>",
        esc(c.owasp));
  if (c.status != CheckStatus::Skipped || c.seconds > 0)
    out += fmt::format("<span class=\"time\">{:.3f} s</span>", c.seconds);
  out += "</div>";

  const std::string id = c.classname.empty() ? c.name : c.classname + "." + c.name;
  out += fmt::format(
      "<div class=\"check-id\"><span class=\"suite-tag\">{}</span><code>{}</code></div>",
      esc(c.suite.empty() ? std::string("(no suite)") : c.suite), esc(id));
  if (!c.message.empty()) out += fmt::format("<p class=\"message\">{}</p>", esc(c.message));
  if (!c.detail.empty() && c.detail != c.message)
    out += block(c.detail, c.status == CheckStatus::Failed ? "detail" : "");
  out += properties_table(c);
  if (!c.charts.empty()) {
    out += "<div class=\"charts\">";
    for (const auto& ch : c.charts) out += chart_svg(ch);
    out += "</div>";
  }
  out += evidence_list(c, c.status == CheckStatus::Failed || c.status == CheckStatus::Warning);
  out += "</article>";
  return out;
}

void section(std::string& out, const RunResult& run, CheckStatus status, const char* id,
             const char* heading) {
  std::string cards;
  int n = 0;
  for (std::size_t i = 0; i < run.checks.size(); ++i) {
    if (run.checks[i].status != status) continue;
    cards += check_card(run.checks[i], i + 1);
    ++n;
  }
  if (n == 0) return;
  out += fmt::format("<section id=\"{}\"><h2>{} <span class=\"n\">{}</span></h2>", id, heading, n);
  if (status == CheckStatus::Passed) {
    out += fmt::format(
        "<details class=\"passed\"><summary>Show the {} passed {}</summary>{}</details>", n,
        n == 1 ? "check" : "checks", cards);
  } else {
    out += cards;
  }
  out += "</section>";
}

std::string fact(const char* label, const std::string& value_html) {
  return fmt::format("<div><dt>{}</dt><dd>{}</dd></div>", label, value_html);
}

}  // namespace

std::string html(const RunResult& raw) {
  const RunResult run = detail::cleaned(raw);
  const Counts all = detail::counts_for(run, nullptr);
  const Verdict v = describe(run, all);
  const std::string version = detail::tool_version(run);

  std::string out;
  out.reserve(16 * 1024 + run.checks.size() * 2048);
  out += "<!DOCTYPE html>\n<html lang=\"en\" class=\"" + v.css + "\">\n<head>\n";
  out += "<meta charset=\"utf-8\">\n";
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += "<meta name=\"generator\" content=\"kgate " + esc(version) + "\">\n";
  out += fmt::format("<title>kgate {}{}{}</title>\n", esc(v.word), run.target.empty() ? "" : " — ",
                     esc(run.target));
  out += "<style>";
  out += kStyle;
  out += "</style>\n</head>\n<body>\n<main>\n";

  // 1. The verdict.
  out += "<header><div class=\"banner\"><div class=\"banner-main\">";
  out += "<div class=\"eyebrow\">kgate release gate</div>";
  out += fmt::format("<h1 class=\"verdict\" id=\"verdict\">{}</h1>", esc(v.word));
  out += fmt::format("<p class=\"headline\">{}</p>", esc(v.headline));
  out += "<div class=\"pills\">";
  out += fmt::format("<span class=\"pill total\">{} {}</span>", all.total,
                     all.total == 1 ? "check" : "checks");
  out += fmt::format("<span class=\"pill\"><i class=\"d-pass\"></i>{} passed</span>", all.passed);
  out += fmt::format("<span class=\"pill\"><i class=\"d-fail\"></i>{} failed</span>", all.failed);
  if (all.warnings > 0)
    out += fmt::format("<span class=\"pill\"><i class=\"d-warn\"></i>{} warnings</span>",
                       all.warnings);
  out += fmt::format("<span class=\"pill\"><i class=\"d-skip\"></i>{} skipped</span>", all.skipped);
  out += "</div></div>";
  out += donut(all);
  out += "</div>";

  out += "<dl class=\"facts\">";
  out += fact("Target", run.target.empty() ? "—" : "<code>" + esc(run.target) + "</code>");
  out += fact("Started", run.started_at.empty() ? "—" : esc(pretty_time(run.started_at)));
  out += fact("Duration", detail::human_duration(run.duration_seconds));
  std::string suites;
  for (const auto& s : detail::suite_order(run)) suites += (suites.empty() ? "" : ", ") + esc(s);
  out += fact("Suites", suites.empty() ? "—" : suites);
  out += fact("Exit code", std::to_string(run.exit_code));
  out += fact("Version", esc(version));
  out += "</dl>";
  if (!run.aborted && v.word == "ERROR" && !run.abort_reason.empty()) {
    out += fmt::format("<div class=\"alert\" role=\"alert\"><strong>Run failed.</strong> {}</div>",
                       esc(run.abort_reason));
  }
  if (run.aborted) {
    out += fmt::format(
        "<div class=\"alert\" role=\"alert\"><strong>Run aborted.</strong> {}Results are partial: "
        "checks that had not run are not listed, and the release must not be approved on this "
        "report.</div>",
        run.abort_reason.empty() ? std::string() : esc(run.abort_reason) + ". ");
  }
  out += "<nav class=\"jump\">";
  out += "<a href=\"#suites\">Suites</a>";
  if (all.failed > 0) out += fmt::format("<a href=\"#failed\">Failed ({})</a>", all.failed);
  if (all.warnings > 0) out += fmt::format("<a href=\"#warnings\">Warnings ({})</a>", all.warnings);
  if (all.skipped > 0) out += fmt::format("<a href=\"#skipped\">Skipped ({})</a>", all.skipped);
  if (all.passed > 0) out += fmt::format("<a href=\"#passed\">Passed ({})</a>", all.passed);
  out += "</nav></header>\n";

  // 2. Per-suite summary.
  out += "<section id=\"suites\"><h2>Summary by suite</h2>";
  out += summary_table(run);
  out += "</section>\n";

  // 3. Failed, skipped, passed.
  if (all.total == 0)
    out += "<section><h2>Checks</h2><p class=\"empty\">No check ran.</p></section>";
  section(out, run, CheckStatus::Failed, "failed", "Failed checks");
  // Charts stay in view whatever the check's outcome: a passing load run is still the figure a
  // release manager looks for.
  {
    std::string cards;
    for (const auto& c : run.checks) {
      if (c.charts.empty()) continue;
      // A <div>, not an <article>: every check has exactly one article (its card below).
      cards += fmt::format("<div class=\"check c-{}\"><div class=\"check-head\"><h3>{}</h3></div>",
                           to_string(c.status), esc(c.title.empty() ? c.name : c.title));
      cards += properties_table(c) + "<div class=\"charts\">";
      for (const auto& ch : c.charts) cards += chart_svg(ch);
      cards += "</div></div>";
    }
    // Thresholds (checks that carry both "threshold" and "measured") as one table.
    std::string rows;
    for (const auto& c : run.checks) {
      std::string threshold, measured;
      for (const auto& p : c.properties) {
        if (p.name == "threshold") threshold = p.value;
        if (p.name == "measured") measured = p.value;
      }
      if (threshold.empty()) continue;
      rows += fmt::format(
          "<tr><td><code>{}</code></td><td>{}</td><td><span class=\"st st-{}\">{}</span></td></tr>",
          esc(threshold), esc(measured), to_string(c.status), upper(to_string(c.status)));
    }
    if (!rows.empty())
      cards +=
          "<div class=\"check\"><h3>Thresholds</h3><table class=\"props\"><thead><tr>"
          "<th>Threshold</th><th>Measured</th><th>Result</th></tr></thead><tbody>" +
          rows + "</tbody></table></div>";
    if (!cards.empty())
      out += "<section id=\"measurements\"><h2>Measurements</h2>" + cards + "</section>";
  }
  section(out, run, CheckStatus::Warning, "warnings",
          "Warnings (findings below the gate's severity floor)");
  section(out, run, CheckStatus::Skipped, "skipped", "Skipped checks");
  section(out, run, CheckStatus::Passed, "passed", "Passed checks");

  out += fmt::format(
      "\n<footer>Generated by kgate {}{}. This report is a single self-contained file: it loads "
      "nothing from the network. The same results are written as JSON "
      "(schema kgate/results/v1) and JUnit XML.</footer>\n",
      esc(version),
      run.started_at.empty() ? std::string()
                             : " for the run started " + esc(pretty_time(run.started_at)));
  out += "</main>\n</body>\n</html>\n";
  return out;
}

void write_html(const RunResult& run, const std::string& path) {
  write_file_atomically(path, html(run));
}

}  // namespace kgate::reports
