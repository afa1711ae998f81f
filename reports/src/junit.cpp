// JUnit XML in the de-facto schema read by Jenkins, GitLab and GitHub test reporters:
// <testsuites> holding one <testsuite> per suite, each <testcase> with <failure>/<skipped>,
// measured values as <properties> inside the testcase, evidence in its <system-out>.
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "kgate/reports.hpp"
#include "text.hpp"

namespace kgate::reports {
namespace {

using detail::Counts;

std::string attr(std::string_view v) {
  return detail::xml_escape(v, true);
}
std::string text(std::string_view v) {
  return detail::xml_escape(v, false);
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "localhost";
  const std::string name(buf.data());
  return name.empty() ? "localhost" : detail::clean(name);
}

void property(std::string& out, const char* indent, std::string_view name, std::string_view value) {
  out += fmt::format("{}<property name=\"{}\" value=\"{}\"/>\n", indent, attr(name), attr(value));
}

std::string failure_message(const CheckResult& c) {
  if (!c.message.empty()) return c.message;
  const auto nl = c.detail.find('\n');
  if (!c.detail.empty()) return c.detail.substr(0, nl);
  return "check failed";
}

std::string indented(std::string_view text, std::string_view pad) {
  std::string out;
  std::size_t from = 0;
  while (from <= text.size()) {
    const auto nl = text.find('\n', from);
    const auto line =
        text.substr(from, nl == std::string_view::npos ? std::string_view::npos : nl - from);
    out.append(pad).append(line).push_back('\n');
    if (nl == std::string_view::npos) break;
    from = nl + 1;
  }
  return out;
}

// The exchanges a check made, as plain text for CI viewers that show <system-out>.
std::string evidence_text(const CheckResult& c) {
  std::string out;
  for (std::size_t i = 0; i < c.evidence.size(); ++i) {
    const Evidence& e = c.evidence[i];
    out += fmt::format("[{}] {} {} -> {} ({:.1f} ms)\n", i + 1, e.method, e.url,
                       e.status == 0 ? std::string("no answer") : std::to_string(e.status),
                       e.elapsed_ms);
    if (!e.note.empty()) out += "    note: " + e.note + "\n";
    if (!e.request_excerpt.empty()) out += "    request:\n" + indented(e.request_excerpt, "      ");
    if (!e.response_excerpt.empty())
      out += "    response:\n" + indented(e.response_excerpt, "      ");
  }
  return out;
}

// Series and events as short text: CI viewers show <system-out>, and a reader should get the
// gist (how many points, the range, the last value; what happened when) without the JSON.
std::string measurements_text(const std::vector<Chart>& charts, const std::vector<Event>& events) {
  std::string out;
  for (const auto& ch : charts) {
    out += "chart: " + ch.title + (ch.unit.empty() ? "" : " (" + ch.unit + ")") + "\n";
    for (const auto& s : ch.series) {
      if (s.values.empty()) {
        out += "    " + s.name + ": no data\n";
        continue;
      }
      const auto [lo, hi] = std::minmax_element(s.values.begin(), s.values.end());
      if (!ch.labels.empty()) {
        out += "    " + s.name + ":";
        for (std::size_t i = 0; i < s.values.size(); ++i)
          out += " " + (i < ch.labels.size() ? ch.labels[i] : "?") + "=" +
                 detail::short_number(s.values[i]);
        out += "\n";
      } else {
        out += fmt::format("    {}: {} points from {}s to {}s, min {}, max {}, last {}\n", s.name,
                           s.values.size(), detail::short_number(s.t.front(), 1),
                           detail::short_number(s.t.back(), 1), detail::short_number(*lo),
                           detail::short_number(*hi), detail::short_number(s.values.back()));
      }
    }
  }
  if (!events.empty()) out += "timeline:\n";
  for (const auto& e : events)
    out += fmt::format("    {:>8}s  {:<18} {}{}\n", detail::short_number(e.t, 2), e.kind, e.object,
                       e.message.empty() ? "" : ": " + e.message);
  return out;
}

// A table as aligned text columns.
std::string tables_text(const std::vector<Table>& tables) {
  std::string out;
  for (const auto& t : tables) {
    std::vector<std::size_t> width(t.columns.size(), 0);
    auto widen = [&](const std::vector<std::string>& cells) {
      for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i)
        width[i] = std::max(width[i], cells[i].size());
    };
    widen(t.columns);
    for (const auto& r : t.rows) widen(r);
    auto line = [&](const std::vector<std::string>& cells) {
      std::string l = "   ";
      for (std::size_t i = 0; i < cells.size() && i < width.size(); ++i)
        l += " " + cells[i] + std::string(width[i] - cells[i].size(), ' ');
      while (!l.empty() && l.back() == ' ') l.pop_back();
      return l + "\n";
    };
    out += "table: " + t.title + "\n" + line(t.columns);
    for (const auto& r : t.rows) out += line(r);
  }
  return out;
}

void testcase(std::string& out, const CheckResult& c, bool fail_on_skip) {
  const std::string classname = c.classname.empty() ? c.suite : c.classname;
  out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">\n", attr(classname),
                     attr(c.name), detail::seconds_attr(c.seconds));
  std::string props;
  if (!c.title.empty()) property(props, "        ", "title", c.title);
  if (!c.severity.empty()) property(props, "        ", "severity", c.severity);
  if (!c.reference.empty()) property(props, "        ", "reference", c.reference);
  if (!c.tags.empty()) {
    std::string tags;
    for (const auto& t : c.tags) tags += (tags.empty() ? "" : ",") + t;
    property(props, "        ", "tags", tags);
  }
  for (const auto& p : c.properties) property(props, "        ", p.name, p.value);
  for (const auto& m : c.scalars) property(props, "        ", m.name, detail::scalar_text(m));
  for (const auto& t : c.thresholds)
    property(props, "        ", "threshold: " + t.expression,
             t.measured + (t.passed ? " (met)" : " (not met)"));
  if (!props.empty()) out += "      <properties>\n" + props + "      </properties>\n";
  const std::string gating = fail_on_skip ? " (fails the gate: run.fail_on_skip)" : "";
  switch (c.status) {
    case CheckStatus::Failed:
      out += fmt::format("      <failure message=\"{}\" type=\"failure\">{}</failure>\n",
                         attr(failure_message(c)), text(c.detail.empty() ? c.message : c.detail));
      break;
    case CheckStatus::Error:
      out += fmt::format("      <error message=\"{}\" type=\"error\">{}</error>\n",
                         attr(failure_message(c)), text(c.detail.empty() ? c.message : c.detail));
      break;
    case CheckStatus::Skipped:
      out += fmt::format("      <skipped message=\"{}\"/>\n", attr(c.message + gating));
      break;
    case CheckStatus::Inconclusive:
      // JUnit has no such state: a skip whose message says the check could not decide.
      out += fmt::format("      <skipped message=\"{}\"/>\n",
                         attr("inconclusive: " + c.message + gating));
      break;
    case CheckStatus::Passed:
    case CheckStatus::Warning:
      break;
  }
  // JUnit has no warning state: a warning is a passing testcase whose output says what was found.
  std::string output =
      measurements_text(c.charts, c.events) + tables_text(c.tables) + evidence_text(c);
  if (c.status == CheckStatus::Warning)
    output = "WARNING (" + c.severity + " finding, below the gate's severity floor): " + c.message +
             "\n\n" + output;
  if (!output.empty()) out += "      <system-out>" + text(output) + "</system-out>\n";
  out += "    </testcase>\n";
}

std::string abort_note(const RunResult& run) {
  return "kgate run aborted" +
         (run.abort_reason.empty() ? std::string() : ": " + run.abort_reason) +
         ". Results are partial: checks that had not run are not listed.";
}

// Release criteria as a testsuite of their own: one testcase per criterion. A failure is what
// fails the gate (a required criterion not met or not verified); an advisory one not verified is
// skipped, and an advisory one not met passes with its reason in system-out (as warnings do).
std::string criteria_suite(const RunResult& run, const std::string& host) {
  int failures = 0, skipped = 0;
  for (const auto& c : run.criteria) {
    failures += gates(c);
    skipped += !c.required && c.verdict == CriterionVerdict::NotVerified;
  }
  std::string out = fmt::format(
      "  <testsuite name=\"criteria\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
      "time=\"0.000\" timestamp=\"{}\" hostname=\"{}\">\n",
      run.criteria.size(), failures, skipped, attr(run.started_at), attr(host));
  out += "    <properties>\n";
  const SignOff& so = run.signoff;
  property(out, "      ", "kgate.criteria_file", so.criteria_file);
  property(out, "      ", "kgate.criteria_sha256", so.criteria_sha256);
  if (!so.config_file.empty()) {
    property(out, "      ", "kgate.config_file", so.config_file);
    property(out, "      ", "kgate.config_sha256", so.config_sha256);
  }
  for (const auto& v : so.versions) property(out, "      ", "version: " + v.name, v.value);
  if (!so.versions_note.empty()) property(out, "      ", "kgate.versions_note", so.versions_note);
  out += "    </properties>\n";
  for (const auto& c : run.criteria) {
    out += fmt::format("    <testcase classname=\"criteria\" name=\"{}\" time=\"0.000\">\n",
                       attr(c.id));
    out += "      <properties>\n";
    property(out, "        ", "text", c.text);
    if (!c.source.empty()) property(out, "        ", "source", c.source);
    property(out, "        ", "level", c.required ? "required" : "advisory");
    property(out, "        ", "verdict", to_string(c.verdict));
    for (const auto& k : c.checks) property(out, "        ", "check: " + k.id, k.status);
    for (const auto& f : c.figures)
      property(out, "        ", "figure: " + f.expression + " [" + f.check + "]",
               (f.measured.empty() ? std::string("-") : f.measured) + " (" + f.outcome + ")");
    out += "      </properties>\n";
    const std::string why = std::string(to_string(c.verdict)) + ": " + c.reason;
    if (gates(c)) {
      out += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", attr(why),
                         c.verdict == CriterionVerdict::NotMet ? "not met" : "not verified",
                         text(c.text + "\n" + why));
    } else if (c.verdict == CriterionVerdict::NotVerified) {
      out += fmt::format("      <skipped message=\"{}\"/>\n", attr("advisory, " + why));
    } else if (c.verdict == CriterionVerdict::NotMet) {
      out += "      <system-out>" +
             text("ADVISORY, NOT MET (reported, does not fail the gate): " + c.reason + "\n") +
             "</system-out>\n";
    }
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n";
  return out;
}

}  // namespace

std::string junit_xml(const RunResult& raw) {
  const RunResult run = detail::cleaned(raw);
  const std::string version = detail::tool_version(run);
  const std::string host = host_name();
  Counts all = detail::counts_for(run, nullptr);
  const double total_time = run.duration_seconds > 0 ? run.duration_seconds : all.seconds;
  // The top-level tallies include the criteria testsuite's, so that they add up.
  for (const auto& c : run.criteria) {
    ++all.total;
    all.failed += gates(c);
    all.skipped += !c.required && c.verdict == CriterionVerdict::NotVerified;
  }

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<testsuites name=\"kgate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" "
      "time=\"{}\" timestamp=\"{}\">\n",
      all.total, all.failed, all.errors, all.not_verified(), detail::seconds_attr(total_time),
      attr(run.started_at));
  out += "  <properties>\n";
  property(out, "    ", "kgate.verdict", detail::verdict_of(run));
  if (!run.selection.empty()) property(out, "    ", "kgate.selection", run.selection);
  for (const auto& p : run.properties) property(out, "    ", "kgate." + p.name, p.value);
  if (run.aborted) {
    property(out, "    ", "kgate.aborted", "true");
    property(out, "    ", "kgate.abort_reason", run.abort_reason);
  }
  out += "  </properties>\n";

  for (const std::string& suite : detail::suite_order(run)) {
    const Counts n = detail::counts_for(run, &suite);
    out += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" "
        "time=\"{}\" timestamp=\"{}\" hostname=\"{}\">\n",
        attr(suite), n.total, n.failed, n.errors, n.not_verified(), detail::seconds_attr(n.seconds),
        attr(run.started_at), attr(host));
    const SuiteResult* fixture = nullptr;
    for (const auto& s : run.suite_results)
      if (s.name == suite) fixture = &s;
    out += "    <properties>\n";
    property(out, "      ", "kgate.target", run.target);
    property(out, "      ", "kgate.version", version);
    property(out, "      ", "kgate.aborted", run.aborted ? "true" : "false");
    if (fixture) {
      for (const auto& p : fixture->properties) property(out, "      ", p.name, p.value);
      for (const auto& m : fixture->scalars)
        property(out, "      ", m.name, detail::scalar_text(m));
      if (!fixture->error.empty()) property(out, "      ", "kgate.fixture_error", fixture->error);
    }
    out += "    </properties>\n";
    for (const auto& c : run.checks)
      if (c.suite == suite) testcase(out, c, run.fail_on_skip);
    std::string suite_out;
    if (fixture) suite_out = measurements_text(fixture->charts, fixture->events);
    if (run.aborted) suite_out += abort_note(run);
    if (!suite_out.empty()) out += "    <system-out>" + text(suite_out) + "</system-out>\n";
    out += "  </testsuite>\n";
  }
  if (!run.criteria.empty()) out += criteria_suite(run, host);
  out += "</testsuites>\n";
  return out;
}

void write_junit(const RunResult& run, const std::string& path) {
  write_file_atomically(path, junit_xml(run));
}

}  // namespace kgate::reports
