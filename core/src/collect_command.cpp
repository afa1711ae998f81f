#include "kgate/collect_command.hpp"

#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "kgate/cluster_client.hpp"
#include "kgate/duration.hpp"
#include "kgate/gate.hpp"
#include "kgate/http.hpp"
#include "kgate/kube/client.hpp"
#include "kgate/log_block.hpp"
#include "kgate/redact.hpp"
#include "kgate/reports.hpp"

namespace kgate {

using nlohmann::json;

CLI::App* add_collect_command(CLI::App& app, CollectArgs& a) {
  auto* c = app.add_subcommand(
      "collect",
      "Write the reports of the kgate run in a release's `helm test` pod (read from its log "
      "through the API); exit with that gate's verdict");
  auto* release =
      c->add_option("--release", a.release, "the Helm release whose test pod ran kgate");
  auto* pod = c->add_option("--pod", a.pod, "read this pod instead of finding the release's");
  release->excludes(pod);
  c->add_option("-n,--namespace", a.ns, "the release's namespace (default: the kubeconfig's)");
  c->add_option("-l,--selector", a.selector,
                "label selector of the release's pods (default: "
                "app.kubernetes.io/instance=<release>)");
  c->add_option("--kubeconfig", a.kubeconfig, "kubeconfig file");
  c->add_option("--context", a.context, "kubeconfig context");
  c->add_option("--request-timeout", a.request_timeout, "bound on each API request")
      ->capture_default_str();
  c->add_option("--report-dir", a.report_dir,
                "write junit.xml, report.html, results.json here (default: kgate-report, unless "
                "--junit, --html or --json is given)");
  c->add_option("--junit", a.junit, "JUnit XML path");
  c->add_option("--html", a.html, "HTML report path");
  c->add_option("--json", a.json, "JSON results path");
  c->footer(
      "Examples:\n"
      "  helm test todo -n todo; kgate collect --release todo -n todo --report-dir out\n"
      "  kgate collect --pod todo-kgate -n todo --junit junit.xml\n"
      "The test pod runs `kgate run --results-block` (the chart's tests.kgate hook does).\n"
      "Exit codes: 0 the gate passed, 1 it failed, 2 usage or kubeconfig error,\n"
      "            3 no test pod / no results in its log, 4 reports not written.");
  return c;
}

std::string results_block(const RunResult& run) {
  // results.json's document (already redacted by the writer), compact.
  return log_block::encode("results", json::parse(reports::json_text(run)));
}

namespace {

// The last lines of a log, indented, for saying what a pod printed instead of results.
std::string tail_lines(const std::string& log, std::size_t count) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i)
    out += "    | " + lines[i] + "\n";
  return out;
}

bool is_test_hook(const json& pod) {
  const json* ann = nullptr;
  if (pod.contains("metadata") && pod["metadata"].contains("annotations"))
    ann = &pod["metadata"]["annotations"];
  if (!ann || !ann->is_object() || !ann->contains("helm.sh/hook")) return false;
  std::stringstream hooks((*ann)["helm.sh/hook"].get<std::string>());
  for (std::string h; std::getline(hooks, h, ',');) {
    h.erase(0, h.find_first_not_of(' '));
    h.erase(h.find_last_not_of(' ') + 1);
    if (h == "test" || h == "test-success") return true;
  }
  return false;
}

struct Collected {
  std::string pod, phase;
  RunResult run;
};

// Several test pods with results (a chart with more than one kgate hook): one run of all.
RunResult merge(std::vector<Collected>& found) {
  RunResult out = std::move(found.front().run);
  for (std::size_t i = 1; i < found.size(); ++i) {
    RunResult& r = found[i].run;
    for (auto& c : r.checks) out.checks.push_back(std::move(c));
    for (auto& s : r.suite_results) out.suite_results.push_back(std::move(s));
    for (const auto& s : r.suites)
      if (std::find(out.suites.begin(), out.suites.end(), s) == out.suites.end())
        out.suites.push_back(s);
    out.selection += "; " + r.selection;
    out.duration_seconds = std::max(out.duration_seconds, r.duration_seconds);
    out.aborted = out.aborted || r.aborted;
    if (out.abort_reason.empty()) out.abort_reason = r.abort_reason;
    out.fail_on_skip = out.fail_on_skip || r.fail_on_skip;
  }
  return out;
}

}  // namespace

int cmd_collect(const CollectArgs& a) {
  if (a.release.empty() && a.pod.empty()) {
    std::cerr << "kgate collect: give --release NAME (or --pod NAME)" << std::endl;
    return kExitUsage;
  }
  ClusterClient cluster;
  try {
    cluster = cluster_client(a.kubeconfig, a.context, a.ns, a.request_timeout);
  } catch (const std::exception& e) {
    std::cerr << "kgate collect: configuration error: " << redact(e.what()) << std::endl;
    return kExitUsage;
  }
  const std::string& ns = cluster.namespace_;
  const std::string selector =
      !a.selector.empty() ? a.selector : "app.kubernetes.io/instance=" + a.release;
  const std::string whose = a.pod.empty() ? "release '" + a.release + "'" : "pod '" + a.pod + "'";

  std::vector<Collected> found;
  std::vector<std::string> notes;
  try {
    kube::Client& client = *cluster.client;
    std::vector<json> pods;
    if (!a.pod.empty()) {
      auto p = client.find(kube::resources::pods, ns, a.pod);
      if (!p) {
        std::cerr << "kgate collect: no pod '" << a.pod << "' in namespace '" << ns << "'"
                  << std::endl;
        return kExitUnreachable;
      }
      pods.push_back(std::move(*p));
    } else {
      kube::ListOptions lo;
      lo.label_selector = selector;
      for (auto& p : client.list(kube::resources::pods, ns, lo).value("items", json::array()))
        if (is_test_hook(p)) pods.push_back(std::move(p));
      if (pods.empty()) {
        std::cerr << "kgate collect: no helm test pod of release '" << a.release
                  << "' in namespace '" << ns << "' (pods labelled " << selector
                  << " with the annotation helm.sh/hook: test); run `helm test " << a.release
                  << " -n " << ns << "` first" << std::endl;
        return kExitUnreachable;
      }
    }
    std::sort(pods.begin(), pods.end(), [](const json& x, const json& y) {
      return x["metadata"].value("creationTimestamp", "") <
             y["metadata"].value("creationTimestamp", "");
    });
    for (const auto& p : pods) {
      const std::string name = p["metadata"].value("name", "");
      const std::string phase = p.value("status", json::object()).value("phase", "Unknown");
      if (phase == "Pending" || phase == "Running") {
        notes.push_back("pod " + name + " has not finished (phase " + phase +
                        "): wait for `helm test` to end");
        continue;
      }
      bool got = false;
      std::string note;
      for (const auto& ctr : p["spec"].value("containers", json::array())) {
        const std::string container = ctr.value("name", "");
        const std::string log = client.logs(ns, name, container);
        std::vector<std::string> problems;
        auto block = log_block::decode_last(log, "results", &problems);
        if (!block) {
          note = "pod " + name + " (phase " + phase + "), container '" + container +
                 "': no results block in its log" +
                 (problems.empty() ? "" : " (" + problems.front() + ")") +
                 "; does it run `kgate run --results-block`? Its last lines:\n" +
                 tail_lines(log, 12);
          continue;
        }
        Collected c;
        c.pod = name;
        c.phase = phase;
        try {
          c.run = reports::parse_results_json(block->dump());
        } catch (const std::exception& e) {
          note = "pod " + name + ": the results block cannot be read: " + e.what();
          continue;
        }
        found.push_back(std::move(c));
        got = true;
        break;
      }
      if (!got && !note.empty()) notes.push_back(note);
    }
  } catch (const http::TransportError& e) {
    if (e.kind() == http::ErrorKind::Interrupted) return kExitInterrupted;
    std::cerr << "kgate collect: cluster unreachable: " << redact(e.what()) << std::endl;
    return kExitUnreachable;
  } catch (const std::exception& e) {
    std::cerr << "kgate collect: cluster refused: " << redact(e.what()) << std::endl;
    return kExitUnreachable;
  }
  for (const auto& n : notes) std::cerr << "kgate collect: " << redact(n) << std::endl;
  if (found.empty()) {
    std::cerr << "kgate collect: no kgate results from the test pods of " << whose
              << " in namespace '" << ns << "'" << std::endl;
    return kExitUnreachable;
  }

  std::string from;
  for (const auto& c : found) from += (from.empty() ? "" : ", ") + c.pod + " (" + c.phase + ")";
  RunResult run = merge(found);
  run.properties.push_back({"collected from", "namespace " + ns + ": pod " + from});
  decide(run);
  std::cout << "kgate collect: " << whose << " in namespace " << ns << ": results of pod " << from
            << ", kgate " << run.tool_version << ", started " << run.started_at << std::endl;
  print_summary(run, std::cout, ::isatty(STDOUT_FILENO));

  std::string junit = a.junit, html = a.html, json_path = a.json, dir = a.report_dir;
  if (dir.empty() && junit.empty() && html.empty() && json_path.empty()) dir = "kgate-report";
  if (!dir.empty()) {
    if (junit.empty()) junit = dir + "/junit.xml";
    if (html.empty()) html = dir + "/report.html";
    if (json_path.empty()) json_path = dir + "/results.json";
  }
  try {
    std::string written;
    for (auto [path, write] :
         {std::pair{&junit, &reports::write_junit}, std::pair{&html, &reports::write_html},
          std::pair{&json_path, &reports::write_json}}) {
      if (path->empty()) continue;
      write(run, *path);
      written += (written.empty() ? "" : ", ") + *path;
    }
    std::cout << "reports: " << written << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "kgate collect: cannot write reports: " << e.what() << std::endl;
    return kExitReportsFailed;
  }
  // The gate's verdict: an aborted or errored run in the pod did not pass.
  return run.verdict == "PASS" ? kExitPass : kExitGateFailed;
}

}  // namespace kgate
