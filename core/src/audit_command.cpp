#include "kgate/audit_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <ctime>
#include <iostream>

#include "kgate/audit/live.hpp"
#include "kgate/audit/load.hpp"
#include "kgate/audit/rules.hpp"
#include "kgate/audit/sarif.hpp"
#include "kgate/check_context.hpp"
#include "kgate/cluster_client.hpp"
#include "kgate/duration.hpp"
#include "kgate/gate.hpp"
#include "kgate/http.hpp"
#include "kgate/kube/client.hpp"
#include "kgate/redact.hpp"
#include "kgate/reports.hpp"

namespace kgate {

CLI::App* add_audit_command(CLI::App& app, AuditArgs& a) {
  auto* c = app.add_subcommand(
      "audit",
      "Audit Kubernetes manifests, a Helm chart or the live namespace: pod security, secrets, "
      "reliability, cross-object wiring, image scans");
  auto* manifests = c->add_option("--manifests", a.manifests,
                                  "YAML file, directory or - (standard input); repeatable");
  auto* chart =
      c->add_option("--chart", a.chart, "Helm chart directory (rendered with helm template)");
  auto* live = c->add_flag("--live", a.live, "read the namespace's objects from the cluster");
  manifests->excludes(chart)->excludes(live);
  chart->excludes(live);
  c->add_option("-f,--values", a.values_files, "--chart: values file (repeatable)");
  c->add_option("--set", a.set, "--chart: value k=v (repeatable)");
  c->add_option("--release", a.release, "--chart: release name")->capture_default_str();
  c->add_option("-n,--namespace", a.ns,
                "--chart: namespace to render for; --live: namespace to read (default: the "
                "kubeconfig's)");
  c->add_option(
      "-l,--selector", a.selector,
      "--live: label selector of the app's objects, e.g. app.kubernetes.io/instance=todo");
  c->add_option("--kubeconfig", a.kubeconfig, "--live: kubeconfig file");
  c->add_option("--context", a.context, "--live: kubeconfig context");
  c->add_option("--request-timeout", a.request_timeout, "--live: bound on each API request")
      ->capture_default_str();
  c->add_option("--image-scan", a.image_scans, "Trivy or Grype JSON report (repeatable)");
  c->add_option("--image-severity", a.image_severity,
                "lowest vulnerability severity (with a fix) that fails the image gate")
      ->check(CLI::IsMember({"low", "medium", "high", "critical"}))
      ->capture_default_str();
  c->add_option("--suppressions", a.suppressions,
                "YAML file: suppressions: [{rule, object, reason}] (see docs/audit.md)");
  c->add_option("--fail-on", a.fail_on, "lowest rule severity that fails the gate; lower: warning")
      ->check(CLI::IsMember({"low", "medium", "high", "critical"}))
      ->capture_default_str();
  c->add_option("--sarif", a.sarif, "write SARIF 2.1.0 here (GitHub code scanning)");
  c->add_option("--sarif-root", a.sarif_root,
                "directory SARIF paths are relative to (default: the git repository of the input)");
  c->add_option("--report-dir", a.report_dir,
                "write junit.xml, report.html, results.json here (default: kgate-report, unless "
                "--junit, --html or --json is given)");
  c->add_option("--junit", a.junit, "JUnit XML path");
  c->add_option("--html", a.html, "HTML report path");
  c->add_option("--json", a.json, "JSON results path");
  c->add_flag("-v,--verbose", a.verbose, "list every finding, suppressed ones too");
  c->add_flag("--list-rules", a.list_rules,
              "print the rules (id, group, severity, reference) as a Markdown table and exit");
  c->footer(
      "Examples:\n"
      "  kgate audit --chart chart/todo --sarif audit.sarif --report-dir out\n"
      "  helm template x chart | kgate audit --manifests -\n"
      "  kgate audit --chart chart/todo -f prod.yaml --image-scan trivy.json\n"
      "  kgate audit --live -n todo -l app.kubernetes.io/instance=todo\n"
      "Suppress on the object: annotations kgate.io/skip: rule-id,rule-id and\n"
      "kgate.io/skip-reason: why (both required). Rules: docs/audit.md.");
  return c;
}

std::string audit_check_class(const std::string& group) {
  std::string out = "audit.";
  bool up = true;
  for (char c : group) {
    if (c == '-') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

namespace {

std::string where(const audit::Finding& f) {
  std::string s = f.location.file.empty() ? f.origin : f.location.file;
  if (f.location.line > 0) s += ":" + std::to_string(f.location.line);
  return s;
}

}  // namespace

std::string audit_finding_text(const audit::Finding& f) {
  return (f.object.empty() ? "" : f.object + ": ") + f.message + " [" + where(f) +
         (f.path.empty() ? "" : " " + f.path) + "]";
}

namespace {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

std::vector<CheckResult> audit_check_results(const std::vector<audit::RuleOutcome>& outcomes,
                                             audit::Severity fail_on) {
  std::vector<CheckResult> out;
  for (const auto& o : outcomes) {
    const audit::Rule& r = *o.rule;
    CheckResult c;
    c.suite = "audit";
    c.classname = audit_check_class(r.group);
    c.name = r.id;
    c.id = c.classname + "." + c.name;
    c.title = r.title;
    c.severity = audit::to_string(r.severity);
    c.reference = r.reference;
    c.tags = {r.group, "kubernetes"};
    c.properties = {{"inspected", std::to_string(o.inspected)},
                    {"findings", std::to_string(o.active())},
                    {"suppressed", std::to_string(o.findings.size() - o.active())}};
    if (*r.help_uri) c.properties.push_back({"help", r.help_uri});
    int active = o.active();
    int suppressed = static_cast<int>(o.findings.size()) - active;
    for (const auto& f : o.findings)
      if (!f.suppressed) c.detail += "- " + audit_finding_text(f) + "\n";
    for (const auto& f : o.findings)
      if (f.suppressed)
        c.detail += "- suppressed (" + f.suppression + "): " + audit_finding_text(f) + "\n";
    if (active > 0) {
      const audit::Finding* first = nullptr;
      for (const auto& f : o.findings)
        if (!f.suppressed && !first) first = &f;
      c.message = std::to_string(active) + (active == 1 ? " finding: " : " findings, the first: ") +
                  audit_finding_text(*first);
      bool fails = r.severity != audit::Severity::Info && r.severity >= fail_on;
      c.status = fails ? CheckStatus::Failed : CheckStatus::Warning;
      c.detail += std::string("Fix: ") + r.remediation;
    } else if (o.inspected == 0 && o.findings.empty()) {
      c.status = CheckStatus::Skipped;
      c.message = "not applicable: nothing in the input for this rule to inspect";
    } else {
      c.status = CheckStatus::Passed;
      c.message = suppressed ? std::to_string(suppressed) + " finding(s) suppressed" : "";
    }
    out.push_back(std::move(c));
  }
  return out;
}

int cmd_audit(const AuditArgs& a) {
  if (a.list_rules) {
    std::cout << "| id | group | severity | title | reference |\n|---|---|---|---|---|\n";
    for (const auto& r : audit::all_rules())
      std::cout << "| `" << r.id << "` | " << r.group << " | " << audit::to_string(r.severity)
                << " | " << r.title << " | " << r.reference << " |\n";
    return kExitPass;
  }
  auto t0 = std::chrono::steady_clock::now();
  int sources = (a.manifests.empty() ? 0 : 1) + (a.chart.empty() ? 0 : 1) + (a.live ? 1 : 0);
  if (sources != 1) {
    std::cerr << "kgate audit: give one input: --manifests FILE|DIR|-, --chart PATH or --live"
              << std::endl;
    return kExitUsage;
  }
  auto fail_on = *audit::parse_severity(a.fail_on);
  audit::Objects objects;
  audit::AuditOptions options;
  std::string described;
  try {
    options.image_severity = *audit::parse_severity(a.image_severity);
    for (const auto& f : a.image_scans) options.scans.push_back(audit::load_image_scan(f));
    if (!a.suppressions.empty()) options.suppressions = audit::load_suppressions(a.suppressions);
    if (!a.manifests.empty()) {
      for (const auto& m : a.manifests)
        for (auto& o : audit::load_manifests(m)) objects.push_back(std::move(o));
      described = "manifests " + fmt::format("{}", fmt::join(a.manifests, ", "));
    } else if (!a.chart.empty()) {
      audit::ChartOptions co;
      co.chart = a.chart;
      co.values_files = a.values_files;
      co.set = a.set;
      co.release = a.release;
      if (!a.ns.empty()) co.ns = a.ns;
      co.interrupted = &interrupted;
      objects = audit::render_chart(co);
      described = "chart " + a.chart;
    }
  } catch (const audit::InputError& e) {
    std::cerr << "kgate audit: " << redact(e.what()) << std::endl;
    return kExitUsage;
  } catch (const std::exception& e) {
    if (interrupted()) return kExitInterrupted;
    std::cerr << "kgate audit: " << redact(e.what()) << std::endl;
    return kExitUsage;
  }
  if (a.live) {
    ClusterClient cluster;
    try {
      cluster = cluster_client(a.kubeconfig, a.context, a.ns, a.request_timeout);
    } catch (const std::exception& e) {
      std::cerr << "kgate audit: configuration error: " << redact(e.what()) << std::endl;
      return kExitUsage;
    }
    const std::string& ns = cluster.namespace_;
    try {
      objects = audit::load_live(*cluster.client, {ns, a.selector});
    } catch (const http::TransportError& e) {
      if (e.kind() == http::ErrorKind::Interrupted) return kExitInterrupted;
      std::cerr << "kgate audit: cluster unreachable: " << redact(e.what()) << std::endl;
      return kExitUnreachable;
    } catch (const std::exception& e) {
      std::cerr << "kgate audit: cluster refused: " << redact(e.what()) << std::endl;
      return kExitUnreachable;
    }
    described = "live namespace " + ns + (a.selector.empty() ? "" : " (" + a.selector + ")");
  }
  if (objects.empty()) {
    std::cerr << "kgate audit: " << described << ": no Kubernetes object to audit" << std::endl;
    return kExitUsage;
  }

  auto outcomes = audit::run_audit(objects, options);
  RunResult run;
  run.tool_version = KGATE_VERSION;
  run.started_at = now_iso();
  run.started_epoch_ms =
      std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  run.selection = "every audit rule (" + std::to_string(outcomes.size()) + ")";
  run.target = described;
  run.suites = {"audit"};
  run.checks = audit_check_results(outcomes, fail_on);
  run.aborted = interrupted();
  if (run.aborted) run.abort_reason = "interrupted by signal";
  run.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  decide(run);

  std::cout << "kgate audit: " << described << ": " << objects.size() << " objects, "
            << outcomes.size() << " rules (fail on " << a.fail_on << " and above)" << std::endl;
  if (a.verbose)
    for (const auto& o : outcomes)
      for (const auto& f : o.findings)
        std::cout << (f.suppressed ? "  suppressed " : "  ") << o.rule->id << ": "
                  << redact(audit_finding_text(f)) << "\n";
  print_summary(run, std::cout, ::isatty(STDOUT_FILENO));

  try {
    // Like `kgate run`: kgate-report/ unless told otherwise.
    std::string junit = a.junit, html = a.html, json = a.json;
    std::string dir = a.report_dir;
    if (dir.empty() && junit.empty() && html.empty() && json.empty()) dir = "kgate-report";
    if (!dir.empty()) {
      if (junit.empty()) junit = dir + "/junit.xml";
      if (html.empty()) html = dir + "/report.html";
      if (json.empty()) json = dir + "/results.json";
    }
    if (!junit.empty()) reports::write_junit(run, junit);
    if (!html.empty()) reports::write_html(run, html);
    if (!json.empty()) reports::write_json(run, json);
    if (!a.sarif.empty()) {
      audit::SarifOptions so;
      so.root = !a.sarif_root.empty() ? a.sarif_root
                : !a.chart.empty()    ? audit::source_root(a.chart)
                : !a.manifests.empty() && a.manifests.front() != "-"
                    ? audit::source_root(a.manifests.front())
                    : "";
      so.fail_on = fail_on;
      so.tool_version = KGATE_VERSION;
      reports::write_file_atomically(a.sarif, redact(audit::to_sarif(outcomes, so).dump(2)) + "\n");
    }
    std::vector<std::string> written;
    for (const std::string* p :
         std::initializer_list<const std::string*>{&junit, &html, &json, &a.sarif})
      if (!p->empty()) written.push_back(*p);
    if (!written.empty())
      std::cout << "reports: " << fmt::format("{}", fmt::join(written, ", ")) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "kgate audit: cannot write reports: " << e.what() << std::endl;
    return 4;
  }
  return run.exit_code;
}

}  // namespace kgate
