// The HTML report: one self-contained file for release managers. Inline CSS and inline SVG
// only, no script, and a Content-Security-Policy that forbids every network load.
// Order: verdict banner, per-suite summary, failed and errored checks, measurements (charts with
// their timelines, thresholds), warnings, inconclusive, skipped, passed (collapsed).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <map>
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
.time{color:var(--muted);font-size:.85rem;white-space:nowrap;margin-left:auto}
.check-id{color:var(--muted);font-size:.85rem;margin:4px 0 0;overflow-wrap:anywhere}
.suite-tag{display:inline-block;background:var(--soft);border:1px solid var(--line);border-radius:5px;padding:0 6px;margin-right:6px;font-weight:600;color:var(--ink)}
.message{margin:10px 0 0;font-weight:600;white-space:pre-wrap;overflow-wrap:anywhere}
.c-failed .message{color:#82071e}
.c-skipped .message{color:#6b4a00}
.c-warning .message{color:#762c00}
pre{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin:8px 0 0;white-space:pre-wrap;overflow-wrap:anywhere;max-height:26em;overflow:auto}
pre.detail{background:#fff5f5;border-color:#ffcecb}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px;margin:12px 0 0}
.chart{margin:0;background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:8px 10px}
.chart figcaption{font-weight:700;font-size:.95rem;margin-bottom:4px}.chart .unit{color:var(--muted);font-weight:400}
.legend{font-size:.85rem;color:var(--muted)}.legend span{margin-right:12px;white-space:nowrap}
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
.c-inconclusive{border-left-color:#6e7781}.c-error{border-left-color:var(--error)}
.st-inconclusive{background:#eaeef2;color:#424a53}.st-error{background:var(--error-bg);color:var(--error)}
.c-inconclusive .message{color:#424a53}.c-error .message{color:#512a97}
.d-inc{background:#6e7781}.d-err{background:var(--error)}
.v-partial .banner{background:linear-gradient(135deg,#7d4e00,#9a6700)}
.summary .ne{color:var(--error);font-weight:700}.summary .ni{color:#424a53;font-weight:700}
.ref{background:#ddf4ff;border-color:#54aeff;color:#0a3069}
.chart.wide{grid-column:1/-1}
.chart svg text{font-family:-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.timeline{font-size:.88rem;border:1px solid var(--line);border-radius:8px;overflow:hidden;margin:8px 0 0}
.timeline th,.timeline td{text-align:left;padding:4px 10px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
.timeline th{background:var(--soft);font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.timeline td.t{font-family:var(--mono);white-space:nowrap;width:7em}
.timeline td.k{font-weight:700;white-space:nowrap}
.timeline tr:last-child td{border-bottom:0}
.selection{margin:10px 0 0;font-size:.9rem;color:var(--muted)}
@media (max-width:900px){.facts{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}}
@media (max-width:700px){.banner{flex-direction:column;align-items:flex-start}.verdict{font-size:2.4rem}.summary td.bar{display:none}}
.crit{background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden}
.crit th,.crit td{padding:8px 12px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
.crit th{background:var(--soft);font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.crit tr:last-child td{border-bottom:0}
.crit td.cv{white-space:nowrap;width:8.5em}
.crit td:first-child{width:27%}
.crit .cid{display:block;color:var(--muted);font-size:.82rem;font-family:var(--mono)}
.crit .src{display:block;color:var(--muted);font-size:.8rem}
.crit .why{font-size:.9rem}
.crit ul{margin:4px 0 0;padding-left:18px;font-size:.85rem}
.crit li.fig{font-family:var(--mono);font-size:.82rem}
.st-met{background:var(--pass-bg);color:var(--pass)}.st-notmet{background:var(--fail-bg);color:var(--fail)}
.st-notverified{background:var(--skip-bg);color:var(--skip)}
.lvl{font-size:.72rem;font-weight:700;color:var(--muted);display:block;margin-top:4px}
.gateline{margin:10px 0;font-weight:700}.gateline.bad{color:var(--fail)}.gateline.good{color:var(--pass)}
.signoff{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px;margin:0 0 12px}
.signoff table td{padding:3px 10px 3px 0;vertical-align:top;overflow-wrap:anywhere;font-size:.9rem}
.signoff td:first-child{color:var(--muted);white-space:nowrap;width:11em}
.sign{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:24px;margin:22px 0 4px}
.sign div{border-top:1px solid var(--ink);padding-top:4px;font-size:.8rem;color:var(--muted)}
@media print{body{background:#fff}.banner{box-shadow:none;-webkit-print-color-adjust:exact;print-color-adjust:exact}pre{max-height:none}.crit tr{break-inside:avoid}}
)css";

struct Verdict {
  std::string word;      // "PASS"
  std::string css;       // "v-pass"
  std::string headline;  // a sentence
};

Verdict describe(const RunResult& run, const Counts& n) {
  Verdict v;
  v.word = detail::verdict_of(run);
  const int answered = n.total - n.not_verified();
  if (v.word == "PASS") {
    v.css = "v-pass";
    if (n.total > 0 && 2 * n.not_verified() >= n.total) {
      // Most checks gave no answer: the gate passed, but nobody should read this as green.
      v.css = "v-partial";
      v.headline = fmt::format(
          "Gate passed, but only {} of {} checks gave an answer ({} skipped, {} inconclusive): "
          "this run verified little",
          answered, n.total, n.skipped, n.inconclusive);
    } else if (n.not_verified() > 0 || n.warnings > 0) {
      v.headline = fmt::format(
          "Release gate passed: {} of {} checks passed, {} with warnings, {} skipped, {} "
          "inconclusive",
          n.passed, n.total, n.warnings, n.skipped, n.inconclusive);
    } else {
      v.headline = fmt::format("Release gate passed: all {} checks passed", n.total);
    }
  } else if (v.word == "FAIL" && n.failed + n.errors == 0 &&
             !(run.fail_on_skip && n.not_verified() > 0) &&
             std::any_of(run.criteria.begin(), run.criteria.end(),
                         [](const CriterionResult& c) { return gates(c); })) {
    v.css = "v-fail";
    const auto k = std::count_if(run.criteria.begin(), run.criteria.end(),
                                 [](const CriterionResult& c) { return gates(c); });
    v.headline = fmt::format(
        "Release gate failed: {} required release {} not met or not verified (no check failed)", k,
        k == 1 ? "criterion" : "criteria");
  } else if (v.word == "FAIL") {
    v.css = "v-fail";
    v.headline = fmt::format("Release gate failed: {} of {} {} failed", n.failed + n.errors,
                             n.total, n.total == 1 ? "check" : "checks");
    if (n.errors > 0) v.headline += fmt::format(" ({} could not be carried out)", n.errors);
    if (run.fail_on_skip && n.not_verified() > 0)
      v.headline += fmt::format("; {} not verified (run.fail_on_skip)", n.not_verified());
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

struct Part {
  int count;
  const char* colour;
};
std::vector<Part> parts_of(const Counts& n) {
  return {{n.passed, "#1a7f37"},   {n.failed, "#cf222e"},       {n.errors, "#8250df"},
          {n.warnings, "#bc4c00"}, {n.inconclusive, "#6e7781"}, {n.skipped, "#d4a72c"}};
}

// A donut of the outcomes; the circle's circumference is 100 so dash lengths are percentages.
std::string donut(const Counts& n) {
  std::string out =
      "<svg class=\"donut\" width=\"132\" height=\"132\" viewBox=\"0 0 42 42\" role=\"img\" "
      "aria-labelledby=\"donut-title\" xmlns=\"http://www.w3.org/2000/svg\">";
  out += fmt::format(
      "<title id=\"donut-title\">{} passed, {} failed, {} errors, {} warnings, {} inconclusive, "
      "{} skipped</title>",
      n.passed, n.failed, n.errors, n.warnings, n.inconclusive, n.skipped);
  out +=
      "<circle cx=\"21\" cy=\"21\" r=\"15.9155\" fill=\"none\" stroke=\"#e6e9ed\" "
      "stroke-width=\"5\"/>";
  double offset = 25;  // start at 12 o'clock
  for (const auto& p : parts_of(n)) {
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
      "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"><title>{} passed, {} failed, {} errors, "
      "{} inconclusive, {} skipped</title><rect width=\"{}\" height=\"12\" rx=\"3\" "
      "fill=\"#e6e9ed\"/>",
      kWidth, n.passed, n.failed, n.errors, n.inconclusive, n.skipped, kWidth);
  double x = 0;
  for (const auto& p : parts_of(n)) {
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
      "<th>Failed</th><th>Errors</th><th>Warnings</th><th>Inconclusive</th><th>Skipped</th>"
      "<th>Time</th><th>Result</th></tr></thead><tbody>";
  const auto row = [&](const Counts& n) {
    return num_cell(n.total, "") + num_cell(n.passed, "") + num_cell(n.failed, "nf") +
           num_cell(n.errors, "ne") + num_cell(n.warnings, "nw") + num_cell(n.inconclusive, "ni") +
           num_cell(n.skipped, "ns");
  };
  for (const std::string& suite : detail::suite_order(run)) {
    const Counts n = detail::counts_for(run, &suite);
    const char* dot = n.failed > 0         ? "d-fail"
                      : n.errors > 0       ? "d-err"
                      : n.warnings > 0     ? "d-warn"
                      : n.passed > 0       ? "d-pass"
                      : n.inconclusive > 0 ? "d-inc"
                      : n.skipped > 0      ? "d-skip"
                                           : "d-none";
    out += fmt::format("<tr><td><span class=\"dot {}\"></span>{}</td>", dot,
                       suite.empty() ? std::string("(no suite)") : esc(suite));
    out += row(n);
    out +=
        fmt::format("<td>{}</td><td class=\"bar\">{}</td></tr>", detail::human_duration(n.seconds),
                    n.total > 0 ? bar(n) : "<span class=\"zero\">no checks ran</span>");
  }
  const Counts all = detail::counts_for(run, nullptr);
  out += "</tbody><tfoot><tr><td>All suites</td>" + row(all);
  out += fmt::format("<td>{}</td><td class=\"bar\">{}</td>", detail::human_duration(all.seconds),
                     all.total > 0 ? bar(all) : "");
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

// A check's own tables (a distributed run's workers), headings and cells as given.
std::string tables_block(const std::vector<Table>& tables) {
  std::string out;
  for (const auto& t : tables) {
    out += fmt::format("<h4>{}</h4><table class=\"props\"><thead><tr>", esc(t.title));
    for (const auto& col : t.columns) out += fmt::format("<th>{}</th>", esc(col));
    out += "</tr></thead><tbody>";
    for (const auto& row : t.rows) {
      out += "<tr>";
      for (const auto& cell : row) out += fmt::format("<td>{}</td>", esc(cell));
      out += "</tr>";
    }
    out += "</tbody></table>";
  }
  return out;
}

// Measured numbers (with units), facts and threshold verdicts, each in its own table.
std::string measurements_tables(const std::vector<Property>& props,
                                const std::vector<Scalar>& scalars,
                                const std::vector<ThresholdResult>& thresholds) {
  std::string out;
  if (!scalars.empty()) {
    out +=
        "<h4>Measurements</h4><table class=\"props\"><thead><tr><th>Measure</th>"
        "<th>Value</th></tr></thead><tbody>";
    for (const auto& m : scalars)
      out += fmt::format("<tr><td>{}</td><td class=\"m\">{}</td></tr>", esc(m.name),
                         esc(detail::scalar_text(m)));
    out += "</tbody></table>";
  }
  if (!thresholds.empty()) {
    out +=
        "<h4>Thresholds</h4><table class=\"props\"><thead><tr><th>Threshold</th>"
        "<th>Measured</th><th>Result</th></tr></thead><tbody>";
    for (const auto& t : thresholds)
      out += fmt::format(
          "<tr><td><code>{}</code></td><td class=\"m\">{}</td><td><span class=\"st st-{}\">{}"
          "</span></td></tr>",
          esc(t.expression), esc(t.measured), t.passed ? "passed" : "failed",
          t.passed ? "MET" : "NOT MET");
    out += "</tbody></table>";
  }
  if (!props.empty()) {
    out +=
        "<h4>Details</h4><table class=\"props\"><thead><tr><th>Property</th><th>Value</th>"
        "</tr></thead><tbody>";
    for (const auto& p : props)
      out += fmt::format("<tr><td>{}</td><td>{}</td></tr>", esc(p.name), esc(p.value));
    out += "</tbody></table>";
  }
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
  if (std::fabs(v) >= 10000) return fmt::format("{:.0f}k", v / 1000);
  if (v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{:.1f}", v);
}

// "12:00:05 UTC" for a moment `t` seconds after the run started.
std::string clock_of(double epoch_ms, double t) {
  if (epoch_ms <= 0) return "+" + detail::short_number(t, 1) + " s";
  const auto secs = static_cast<std::time_t>((epoch_ms / 1000.0) + t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return std::string(buf) + " UTC";
}

constexpr const char* kColours[] = {"#0969da", "#bc4c00", "#cf222e",
                                    "#8250df", "#1a7f37", "#9a6700"};

// Bars over labels, as inline SVG (the report stays one file). Font sizes are in the viewBox's
// units: at the chart's smallest width on screen or paper labels stay at 11 px or more.
std::string bars_svg(const Chart& ch) {
  constexpr double kW = 420, kH = 220, kLeft = 52, kRight = 8, kTop = 10, kBottom = 28;
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  std::size_t points = ch.labels.size();
  double max = 0;
  for (const auto& s : ch.series)
    for (double v : s.values) max = std::max(max, v);
  if (points == 0) return "";
  const double step = nice_step(max);
  const double top = std::max(step, std::ceil(max / step) * step);
  std::string out = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" font-size=\"13\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
      kW, kH, esc(ch.title));
  for (double y = 0; y <= top + step / 2; y += step) {
    double py = kTop + plot_h - plot_h * y / top;
    out += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#d0d7de\" stroke-width=\"0.6\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#59636e\">{}</text>",
        kLeft, kW - kRight, fmt_num(py), fmt_num(py), kLeft - 5, fmt_num(py + 4), axis_number(y));
  }
  const double group = plot_w / static_cast<double>(points);
  const double width =
      group * 0.8 / static_cast<double>(std::max<std::size_t>(1, ch.series.size()));
  for (std::size_t i = 0; i < points; ++i) {
    for (std::size_t s = 0; s < ch.series.size(); ++s) {
      double v = i < ch.series[s].values.size() ? ch.series[s].values[i] : 0;
      double h = plot_h * v / top;
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{} {}: {} {}"
          "</title></rect>",
          fmt_num(kLeft + group * static_cast<double>(i) + group * 0.1 +
                  width * static_cast<double>(s)),
          fmt_num(kTop + plot_h - h), fmt_num(width * 0.95), fmt_num(h), kColours[s % 6],
          esc(ch.series[s].name), esc(ch.labels[i]), detail::short_number(v), esc(ch.unit));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#59636e\">{}</text>",
                       fmt_num(kLeft + group * (static_cast<double>(i) + 0.5)), kH - 9,
                       esc(ch.labels[i]));
  }
  return out + "</svg>";
}

// Lines over time on the run's clock, with the events of the same check or suite marked on the
// same axis (numbered; the timeline table below the chart lists them). Every point carries its
// value as a tooltip, so a release manager reads numbers without zooming.
std::string lines_svg(const Chart& ch, const std::vector<Event>& events, double epoch_ms) {
  constexpr double kW = 960, kH = 300, kLeft = 64, kRight = 16, kTop = 26, kBottom = 40;
  const double plot_w = kW - kLeft - kRight, plot_h = kH - kTop - kBottom;
  double t0 = 0, t1 = 0, max = 0;
  bool any = false;
  for (const auto& s : ch.series)
    for (std::size_t i = 0; i < s.values.size() && i < s.t.size(); ++i) {
      t0 = any ? std::min(t0, s.t[i]) : s.t[i];
      t1 = any ? std::max(t1, s.t[i]) : s.t[i];
      max = std::max(max, s.values[i]);
      any = true;
    }
  if (!any) return "";
  if (ch.timeline)
    for (const auto& e : events) {
      t0 = std::min(t0, e.t);
      t1 = std::max(t1, e.t);
    }
  const double span = std::max(t1 - t0, 1.0);
  const double step = nice_step(max);
  const double top = std::max(step, std::ceil(max / step) * step);
  const auto x_of = [&](double t) { return kLeft + plot_w * (t - t0) / span; };
  const auto y_of = [&](double v) { return kTop + plot_h - plot_h * v / top; };
  std::string out = fmt::format(
      "<svg viewBox=\"0 0 {} {}\" width=\"100%\" role=\"img\" font-size=\"15\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
      kW, kH, esc(ch.title));
  for (double y = 0; y <= top + step / 2; y += step)
    out += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#d0d7de\" stroke-width=\"0.8\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#59636e\">{}</text>",
        kLeft, kW - kRight, fmt_num(y_of(y)), fmt_num(y_of(y)), kLeft - 6, fmt_num(y_of(y) + 5),
        axis_number(y));
  const double xstep = nice_step(span);
  for (double t = 0; t <= span + 1e-9; t += xstep)
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#59636e\">+{}s"
        "</text>",
        fmt_num(x_of(t0 + t)), kH - 20, axis_number(t));
  out += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#59636e\">seconds after {}</text>",
      kW - kRight, kH - 2, esc(clock_of(epoch_ms, t0)));
  if (ch.timeline) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& e = events[i];
      const double x = x_of(e.t);
      out += fmt::format(
          "<g><title>{} {} {}{}</title><line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" "
          "stroke=\"#8250df\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/><circle cx=\"{}\" "
          "cy=\"{}\" r=\"9\" fill=\"#8250df\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" "
          "fill=\"#fff\" font-size=\"11\" font-weight=\"700\">{}</text></g>",
          esc(clock_of(epoch_ms, e.t)), esc(e.kind), esc(e.object),
          e.message.empty() ? "" : ": " + esc(e.message), fmt_num(x), fmt_num(x), kTop,
          kTop + plot_h, fmt_num(x), kTop - 12, fmt_num(x), kTop - 8, i + 1);
    }
  }
  for (std::size_t s = 0; s < ch.series.size(); ++s) {
    const auto& series = ch.series[s];
    std::string path, dots;
    const std::size_t n = std::min(series.values.size(), series.t.size());
    const std::size_t every = std::max<std::size_t>(1, n / 300);  // hover targets: at most ~300
    for (std::size_t i = 0; i < n; ++i) {
      const double px = x_of(series.t[i]), py = y_of(series.values[i]);
      path += fmt::format("{}{},{}", i == 0 ? "M" : " L", fmt_num(px), fmt_num(py));
      if (i % every == 0 || i + 1 == n)
        dots += fmt::format(
            "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\" fill-opacity=\"0.01\"><title>{} at "
            "+{}s ({}): {} {}</title></circle>",
            fmt_num(px), fmt_num(py), kColours[s % 6], esc(series.name),
            detail::short_number(series.t[i] - t0, 1), esc(clock_of(epoch_ms, series.t[i])),
            detail::short_number(series.values[i]), esc(ch.unit));
    }
    out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>", path,
                       kColours[s % 6]);
    out += dots;
  }
  return out + "</svg>";
}

std::string chart_figure(const Chart& ch, const std::vector<Event>& events, double epoch_ms) {
  const bool bars = !ch.labels.empty();
  const std::string svg = bars ? bars_svg(ch) : lines_svg(ch, events, epoch_ms);
  if (svg.empty()) return "";
  std::string out = fmt::format(
      "<figure class=\"chart{}\"><figcaption>{} <span class=\"unit\">({})</span></figcaption>",
      bars ? "" : " wide", esc(ch.title), esc(ch.unit));
  out += svg + "<div class=\"legend\">";
  for (std::size_t s = 0; s < ch.series.size(); ++s)
    out += fmt::format("<span><i style=\"background:{}\"></i>{}</span>", kColours[s % 6],
                       esc(ch.series[s].name));
  if (ch.timeline && !events.empty())
    out += "<span><i style=\"background:#8250df\"></i>events (numbered below)</span>";
  return out + "</div></figure>";
}

std::string timeline_table(const std::vector<Event>& events, double epoch_ms) {
  if (events.empty()) return {};
  std::string out =
      "<h4>Timeline</h4><table class=\"timeline\"><thead><tr><th>#</th><th>Time</th>"
      "<th>Event</th><th>Object</th><th>What happened</th></tr></thead><tbody>";
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    out += fmt::format(
        "<tr><td>{}</td><td class=\"t\">{}</td><td class=\"k\">{}</td><td><code>{}</code></td>"
        "<td>{}</td></tr>",
        i + 1, esc(clock_of(epoch_ms, e.t)), esc(e.kind), esc(e.object), esc(e.message));
  }
  return out + "</tbody></table>";
}

std::string charts_block(const std::vector<Chart>& charts, const std::vector<Event>& events,
                         double epoch_ms) {
  std::string figures;
  for (const auto& ch : charts) figures += chart_figure(ch, events, epoch_ms);
  std::string out;
  if (!figures.empty()) out += "<div class=\"charts\">" + figures + "</div>";
  return out + timeline_table(events, epoch_ms);
}

std::string check_card(const CheckResult& c, std::size_t index, double epoch_ms) {
  const std::string status = to_string(c.status);
  std::string out = fmt::format("<article class=\"check c-{}\" id=\"check-{}\">", status, index);
  out += "<div class=\"check-head\">";
  out += fmt::format("<span class=\"st st-{}\">{}</span>", status, upper(status));
  out += fmt::format("<h3>{}</h3>", esc(c.title.empty() ? c.name : c.title));
  if (!c.severity.empty())
    out += fmt::format("<span class=\"badge {}\" title=\"Severity\">{}</span>",
                       severity_class(c.severity), esc(upper(c.severity)));
  if (!c.reference.empty())
    out += fmt::format("<span class=\"badge ref\" title=\"Reference\">{}</span>", esc(c.reference));
  if (c.status != CheckStatus::Skipped || c.seconds > 0)
    out += fmt::format("<span class=\"time\">{:.3f} s</span>", c.seconds);
  out += "</div>";

  const std::string id = c.id.empty() ? c.classname + "." + c.name : c.id;
  out += fmt::format(
      "<div class=\"check-id\"><span class=\"suite-tag\">{}</span><code>{}</code></div>",
      esc(c.suite.empty() ? std::string("(no suite)") : c.suite), esc(id));
  if (!c.message.empty()) out += fmt::format("<p class=\"message\">{}</p>", esc(c.message));
  if (!c.detail.empty() && c.detail != c.message)
    out += block(c.detail, c.status == CheckStatus::Failed ? "detail" : "");
  out += measurements_tables(c.properties, c.scalars, c.thresholds);
  out += tables_block(c.tables);
  out += charts_block(c.charts, c.events, epoch_ms);
  out += evidence_list(c, c.status == CheckStatus::Failed || c.status == CheckStatus::Warning ||
                              c.status == CheckStatus::Error);
  out += "</article>";
  return out;
}

void section(std::string& out, const RunResult& run, CheckStatus status, const char* id,
             const char* heading) {
  std::string cards;
  int n = 0;
  for (std::size_t i = 0; i < run.checks.size(); ++i) {
    if (run.checks[i].status != status) continue;
    cards += check_card(run.checks[i], i + 1, run.started_epoch_ms);
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

// Charts, timelines and thresholds stay in view whatever the outcome: a passing load run or
// resilience window is still the figure a release manager looks for.
std::string measurements_section(const RunResult& run) {
  std::string cards;
  for (const auto& s : run.suite_results) {
    if (s.charts.empty() && s.events.empty() && s.scalars.empty() && s.error.empty()) continue;
    cards += fmt::format("<div class=\"check\"><div class=\"check-head\"><h3>Suite {}{}</h3></div>",
                         esc(s.name), s.title.empty() ? "" : ": " + esc(s.title));
    if (!s.error.empty()) cards += fmt::format("<p class=\"message\">{}</p>", esc(s.error));
    cards += measurements_tables(s.properties, s.scalars, {});
    cards += charts_block(s.charts, s.events, run.started_epoch_ms) + "</div>";
  }
  for (const auto& c : run.checks) {
    if (c.charts.empty() && c.events.empty() && c.tables.empty()) continue;
    // A <div>, not an <article>: every check has exactly one article (its card below).
    cards += fmt::format("<div class=\"check c-{}\"><div class=\"check-head\"><h3>{}</h3></div>",
                         to_string(c.status), esc(c.title.empty() ? c.name : c.title));
    cards += measurements_tables({}, c.scalars, c.thresholds);
    cards += tables_block(c.tables);
    cards += charts_block(c.charts, c.events, run.started_epoch_ms) + "</div>";
  }
  std::string rows;
  for (const auto& c : run.checks)
    for (const auto& t : c.thresholds)
      rows += fmt::format(
          "<tr><td><code>{}</code></td><td>{}</td><td><span class=\"st st-{}\">{}</span></td>"
          "</tr>",
          esc(t.expression), esc(t.measured), to_string(c.status), upper(to_string(c.status)));
  if (!rows.empty())
    cards +=
        "<div class=\"check\"><h3>Thresholds</h3><table class=\"props\"><thead><tr>"
        "<th>Threshold</th><th>Measured</th><th>Result</th></tr></thead><tbody>" +
        rows + "</tbody></table></div>";
  if (cards.empty()) return {};
  return "<section id=\"measurements\"><h2>Measurements</h2>" + cards + "</section>";
}

std::string verdict_badge(CriterionVerdict v) {
  const char* css = v == CriterionVerdict::Met      ? "st-met"
                    : v == CriterionVerdict::NotMet ? "st-notmet"
                                                    : "st-notverified";
  return fmt::format("<span class=\"st {}\">{}</span>", css, upper(to_string(v)));
}

// What a release manager signs: the run's target, versions, time and the files' hashes, then
// the criteria table (criterion, verdict, the figures and checks that decided it, links to the
// checks' cards below), then lines for a signature. Empty when the run had no criteria.
std::string criteria_section(const RunResult& run) {
  if (run.criteria.empty()) return {};
  const SignOff& so = run.signoff;
  std::string out = "<section id=\"criteria\"><h2>Release criteria <span class=\"n\">" +
                    std::to_string(run.criteria.size()) + "</span></h2>";
  out += "<div class=\"signoff\" id=\"signoff\"><table><tbody>";
  auto row = [&out](const char* k, const std::string& v_html) {
    out += fmt::format("<tr><td>{}</td><td>{}</td></tr>", k, v_html);
  };
  row("Target", run.target.empty() ? "—" : "<code>" + esc(run.target) + "</code>");
  row("Run started", run.started_at.empty() ? "—" : esc(run.started_at));
  for (const auto& v : so.versions)
    row(v.name == "kgate" ? "kgate version" : "Version",
        esc(v.name == "kgate" ? v.value : v.name + ": " + v.value));
  if (!so.versions_note.empty()) row("App versions", esc(so.versions_note));
  row("Configuration", so.config_file.empty()
                           ? std::string("built-in defaults (no kgate.yaml)")
                           : "<code>" + esc(so.config_file) + "</code> sha256 <code>" +
                                 esc(so.config_sha256) + "</code>");
  row("Criteria", "<code>" + esc(so.criteria_file) + "</code> sha256 <code>" +
                      esc(so.criteria_sha256) + "</code>");
  if (!run.selection.empty()) row("Selection", esc(run.selection));
  out += "</tbody></table></div>";

  int met = 0, not_met = 0, unverified = 0, gating = 0, required = 0;
  for (const auto& c : run.criteria) {
    met += c.verdict == CriterionVerdict::Met;
    not_met += c.verdict == CriterionVerdict::NotMet;
    unverified += c.verdict == CriterionVerdict::NotVerified;
    gating += gates(c);
    required += c.required;
  }
  if (gating > 0)
    out += fmt::format(
        "<p class=\"gateline bad\">Release criteria not met: {} of {} required criteria not met "
        "or not verified ({} met, {} not met, {} not verified in all).</p>",
        gating, required, met, not_met, unverified);
  else
    out += fmt::format(
        "<p class=\"gateline good\">All {} required release criteria met ({} met, {} not met, {} "
        "not verified in all).</p>",
        required, met, not_met, unverified);

  std::map<std::string, std::size_t> card;  // check id -> its card's anchor
  for (std::size_t i = 0; i < run.checks.size(); ++i) {
    const CheckResult& c = run.checks[i];
    card.emplace(c.id.empty() ? c.classname + "." + c.name : c.id, i + 1);  // as its card says
  }
  out +=
      "<table class=\"crit\"><thead><tr><th>Criterion</th><th>Verdict</th><th>Decided by</th>"
      "</tr></thead><tbody>";
  for (const auto& c : run.criteria) {
    out += fmt::format("<tr id=\"criterion-{}\"><td>{}<span class=\"cid\">{}</span>", esc(c.id),
                       esc(c.text), esc(c.id));
    if (!c.source.empty()) out += "<span class=\"src\">" + esc(c.source) + "</span>";
    out += "</td><td class=\"cv\">" + verdict_badge(c.verdict);
    out += fmt::format("<span class=\"lvl\">{}{}</span></td>", c.required ? "REQUIRED" : "ADVISORY",
                       gates(c) ? ", FAILS THE GATE" : "");
    out += "<td><div class=\"why\">" + esc(c.reason) + "</div>";
    std::string items;
    for (const auto& f : c.figures)
      items +=
          fmt::format("<li class=\"fig\">{} on {}: {} ({})</li>", esc(f.expression), esc(f.check),
                      f.measured.empty() ? "—" : esc(f.measured), esc(f.outcome));
    for (const auto& k : c.checks) {
      auto it = card.find(k.id);
      const std::string name =
          it == card.end()
              ? "<code>" + esc(k.id) + "</code>"
              : fmt::format("<a href=\"#check-{}\"><code>{}</code></a>", it->second, esc(k.id));
      items += "<li>" + name + ": " + esc(k.status) + "</li>";
    }
    if (!items.empty()) out += "<ul>" + items + "</ul>";
    out += "</td></tr>";
  }
  out += "</tbody></table>";
  out +=
      "<div class=\"sign\"><div>Release manager (name)</div><div>Signature</div><div>Date</div>"
      "</div></section>\n";
  return out;
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
  if (all.errors > 0)
    out += fmt::format("<span class=\"pill\"><i class=\"d-err\"></i>{} errors</span>", all.errors);
  if (all.warnings > 0)
    out += fmt::format("<span class=\"pill\"><i class=\"d-warn\"></i>{} warnings</span>",
                       all.warnings);
  if (all.inconclusive > 0)
    out += fmt::format("<span class=\"pill\"><i class=\"d-inc\"></i>{} inconclusive</span>",
                       all.inconclusive);
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
  if (!run.selection.empty())
    out += fmt::format("<p class=\"selection\">Selection: {}{}</p>", esc(run.selection),
                       run.fail_on_skip ? "; skipped and inconclusive checks fail the gate" : "");
  for (const auto& p : run.properties)
    out += fmt::format("<p class=\"selection\">{}: {}</p>", esc(p.name), esc(p.value));
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
  if (!run.criteria.empty()) out += "<a href=\"#criteria\">Criteria</a>";
  out += "<a href=\"#suites\">Suites</a>";
  const struct {
    int n;
    const char* id;
    const char* label;
  } links[] = {
      {all.failed, "failed", "Failed"},       {all.errors, "errors", "Errors"},
      {all.warnings, "warnings", "Warnings"}, {all.inconclusive, "inconclusive", "Inconclusive"},
      {all.skipped, "skipped", "Skipped"},    {all.passed, "passed", "Passed"}};
  for (const auto& l : links)
    if (l.n > 0) out += fmt::format("<a href=\"#{}\">{} ({})</a>", l.id, l.label, l.n);
  out += "</nav></header>\n";

  // 2. The release criteria, when the run had any: what a release manager signs, above the
  // suites.
  out += criteria_section(run);

  // 3. Per-suite summary.
  out += "<section id=\"suites\"><h2>Summary by suite</h2>";
  out += summary_table(run);
  out += "</section>\n";

  // 4. What needs attention first, then the measurements, then the rest.
  if (all.total == 0)
    out += "<section><h2>Checks</h2><p class=\"empty\">No check ran.</p></section>";
  section(out, run, CheckStatus::Failed, "failed", "Failed checks");
  section(out, run, CheckStatus::Error, "errors", "Checks that could not be carried out");
  out += measurements_section(run);
  section(out, run, CheckStatus::Warning, "warnings",
          "Warnings (findings below the gate's severity floor)");
  section(out, run, CheckStatus::Inconclusive, "inconclusive",
          "Inconclusive checks (ran, but could not decide)");
  section(out, run, CheckStatus::Skipped, "skipped", "Skipped checks");
  section(out, run, CheckStatus::Passed, "passed", "Passed checks");

  out += fmt::format(
      "\n<footer>Generated by kgate {}{}. This report is a single self-contained file: it loads "
      "nothing from the network. The same results are written as JSON "
      "(schema kgate/results/v2) and JUnit XML.</footer>\n",
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
