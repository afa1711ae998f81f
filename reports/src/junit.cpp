// JUnit XML in the de-facto schema read by Jenkins, GitLab and GitHub test reporters:
// <testsuites> holding one <testsuite> per suite, each <testcase> with <failure>/<skipped>,
// measured values as <properties> inside the testcase, evidence in its <system-out>.
#include <unistd.h>

#include <fmt/format.h>

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

void testcase(std::string& out, const CheckResult& c) {
  const std::string classname = c.classname.empty() ? c.suite : c.classname;
  out += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">\n", attr(classname),
                     attr(c.name), detail::seconds_attr(c.seconds));
  const bool has_props =
      !c.title.empty() || !c.severity.empty() || !c.owasp.empty() || !c.properties.empty();
  if (has_props) {
    out += "      <properties>\n";
    if (!c.title.empty()) property(out, "        ", "title", c.title);
    if (!c.severity.empty()) property(out, "        ", "severity", c.severity);
    if (!c.owasp.empty()) property(out, "        ", "owasp", c.owasp);
    for (const auto& p : c.properties) property(out, "        ", p.name, p.value);
    out += "      </properties>\n";
  }
  if (c.status == CheckStatus::Failed) {
    out += fmt::format("      <failure message=\"{}\" type=\"failure\">{}</failure>\n",
                       attr(failure_message(c)), text(c.detail.empty() ? c.message : c.detail));
  } else if (c.status == CheckStatus::Skipped) {
    out += fmt::format("      <skipped message=\"{}\"/>\n", attr(c.message));
  }
  // JUnit has no warning state: a warning is a passing testcase whose output says what was found.
  std::string evidence = evidence_text(c);
  if (c.status == CheckStatus::Warning)
    evidence = "WARNING (" + c.severity +
               " finding, below the gate's severity floor): " + c.message + "\n\n" + evidence;
  if (!evidence.empty()) out += "      <system-out>" + text(evidence) + "</system-out>\n";
  out += "    </testcase>\n";
}

std::string abort_note(const RunResult& run) {
  return "kgate run aborted" +
         (run.abort_reason.empty() ? std::string() : ": " + run.abort_reason) +
         ". Results are partial: checks that had not run are not listed.";
}

}  // namespace

std::string junit_xml(const RunResult& raw) {
  const RunResult run = detail::cleaned(raw);
  const std::string version = detail::tool_version(run);
  const std::string host = host_name();
  const Counts all = detail::counts_for(run, nullptr);
  const double total_time = run.duration_seconds > 0 ? run.duration_seconds : all.seconds;

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format(
      "<testsuites name=\"kgate\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
      "time=\"{}\" timestamp=\"{}\">\n",
      all.total, all.failed, all.skipped, detail::seconds_attr(total_time), attr(run.started_at));
  if (run.aborted) {
    out += "  <properties>\n";
    property(out, "    ", "kgate.aborted", "true");
    property(out, "    ", "kgate.abort_reason", run.abort_reason);
    property(out, "    ", "kgate.verdict", detail::verdict_of(run));
    out += "  </properties>\n";
  }

  for (const std::string& suite : detail::suite_order(run)) {
    const Counts n = detail::counts_for(run, &suite);
    out += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
        "time=\"{}\" timestamp=\"{}\" hostname=\"{}\">\n",
        attr(suite), n.total, n.failed, n.skipped, detail::seconds_attr(n.seconds),
        attr(run.started_at), attr(host));
    out += "    <properties>\n";
    property(out, "      ", "kgate.target", run.target);
    property(out, "      ", "kgate.version", version);
    property(out, "      ", "kgate.aborted", run.aborted ? "true" : "false");
    out += "    </properties>\n";
    for (const auto& c : run.checks)
      if (c.suite == suite) testcase(out, c);
    if (run.aborted) out += "    <system-out>" + text(abort_note(run)) + "</system-out>\n";
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

void write_junit(const RunResult& run, const std::string& path) {
  write_file_atomically(path, junit_xml(run));
}

}  // namespace kgate::reports
