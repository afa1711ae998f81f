// The local cluster's own life: it lives in a network namespace of its own, and whichever way it
// ends (a clean stop, Ctrl-C twice, a SIGKILL of its script followed by a new start) it leaves
// no namespace, route or process behind. Each story starts fixtures/local-cluster/local-cluster.sh
// directly, as scripts/local-cluster.sh does, and looks at the host from the outside.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <kgate/process.hpp>
#include <kgate/wait.hpp>

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs a command to completion and returns its output (stdout + stderr).
std::string output_of(const std::string& program, const std::vector<std::string>& args) {
  static int n = 0;
  kgate::ProcessSpec spec;
  spec.program = program;
  spec.args = args;
  spec.log_path = fs::temp_directory_path() / ("kgate-lifecycle-cmd-" + std::to_string(::getpid()) +
                                               "-" + std::to_string(++n) + ".out");
  kgate::ChildProcess p(spec);
  p.wait(30s);
  std::string out = slurp(spec.log_path);
  fs::remove(spec.log_path);
  return out;
}

bool netns_exists(const std::string& ns) {
  std::istringstream list(output_of("ip", {"netns", "list"}));
  for (std::string line; std::getline(list, line);)
    if (line.substr(0, line.find(' ')) == ns) return true;
  return false;
}

// Processes whose command line names the cluster's folder (etcd, the API server, the agent...).
std::string processes_of(const std::string& dir) {
  std::string found;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = slurp(e.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    // The script itself is excluded by the callers' timing; the test's own helpers never name
    // the folder.
    if (cmdline.find(dir + "/") != std::string::npos) found += pid + ": " + cmdline + "\n";
  }
  return found;
}

// One cluster started by the script, with its namespace as the script reported it.
class ScriptCluster {
 public:
  explicit ScriptCluster(const std::string& dir) : dir_(dir) {
    const std::string source = std::getenv("KGATE_SOURCE_DIR");
    const std::string build = std::getenv("KGATE_BUILD_DIR");
    kgate::ProcessSpec spec;
    spec.program = source + "/fixtures/local-cluster/local-cluster.sh";
    spec.args = {"up",
                 "--dir",
                 dir_,
                 "--node-agent",
                 build + "/fixtures/node-agent/kgate-node-agent",
                 "--parent-pid",
                 std::to_string(::getpid())};
    spec.log_path = dir_ + ".out";
    process_ = kgate::ChildProcess(spec);
    auto up = kgate::wait_until(
        [&](std::string* why) {
          *why = process_.running() ? "starting" : "the script exited";
          // "ready" follows the env file: from then on a signal to the script is acted on.
          return (fs::exists(dir_ + "/env") && says_ready()) || !process_.running();
        },
        180s, 200ms);
    if (!up.ok || !process_.running())
      throw std::runtime_error("cluster did not start: " + process_.log_tail(3000));
    std::istringstream env(slurp(dir_ + "/env"));
    for (std::string line; std::getline(env, line);)
      if (line.rfind("KGATE_CLUSTER_NETNS=", 0) == 0) netns_ = line.substr(20);
    if (netns_.empty()) throw std::runtime_error("no KGATE_CLUSTER_NETNS in " + dir_ + "/env");
  }
  bool says_ready() const {
    std::istringstream out(slurp(dir_ + ".out"));
    for (std::string line; std::getline(out, line);)
      if (line == "ready") return true;
    return false;
  }
  kgate::ChildProcess& process() { return process_; }
  const std::string& netns() const { return netns_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, netns_;
  kgate::ChildProcess process_;
};

class LocalClusterLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("kgate-lifecycle-" + std::to_string(::getpid()));
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(base_); }

  // Nothing of the cluster is left: no namespace, no process, no registry entry, and nothing
  // in 10.0.0.0/8 on the host.
  void expect_nothing_left(const std::string& ns, const std::string& dir) {
    EXPECT_FALSE(netns_exists(ns)) << ns << " is still there";
    EXPECT_EQ(processes_of(dir), "") << "processes left behind";
    EXPECT_FALSE(fs::exists("/run/kgate-local-cluster/" + ns));
    const std::regex ten(R"((^|[^0-9.])10\.[0-9]+\.[0-9]+\.[0-9]+)");
    EXPECT_FALSE(std::regex_search(output_of("ip", {"-4", "route", "show", "table", "all"}), ten));
    EXPECT_FALSE(std::regex_search(output_of("ip", {"-4", "addr"}), ten));
  }

  std::string base_;
};

TEST_F(LocalClusterLifecycle, CleanStopLeavesNothing) {
  ScriptCluster c(base_ + "/clean");
  ASSERT_TRUE(netns_exists(c.netns())) << c.netns();
  EXPECT_NE(output_of("ip", {"netns", "pids", c.netns()}), "") << "the cluster runs inside it";
  EXPECT_EQ(c.process().stop(SIGTERM, 30s), 143) << c.process().log_tail();
  expect_nothing_left(c.netns(), c.dir());
}

TEST_F(LocalClusterLifecycle, CtrlCTwiceStillTearsDownEverything) {
  ScriptCluster c(base_ + "/twice");
  c.process().signal(SIGINT);
  c.process().signal(SIGINT);  // the second one arrives while teardown runs: ignored
  auto status = c.process().wait(30s);
  ASSERT_TRUE(status.has_value()) << "teardown is bounded";
  EXPECT_EQ(*status, 130) << c.process().log_tail();
  expect_nothing_left(c.netns(), c.dir());
}

TEST_F(LocalClusterLifecycle, KilledScriptLeavesAnEmptyNamespaceTheNextStartRemoves) {
  std::string killed_ns, killed_dir = base_ + "/killed";
  {
    ScriptCluster c(killed_dir);
    killed_ns = c.netns();
    c.process().signal(SIGKILL);  // no teardown at all
    c.process().wait(10s);
    // Every process dies with the script (parent-death signal): the namespace empties.
    auto emptied = kgate::wait_until(
        [&](std::string* why) {
          *why = "still in " + killed_ns + ": " + output_of("ip", {"netns", "pids", killed_ns});
          return output_of("ip", {"netns", "pids", killed_ns}).empty();
        },
        20s, 200ms);
    EXPECT_TRUE(emptied.ok) << emptied.last_error;
    EXPECT_TRUE(netns_exists(killed_ns)) << "nothing removed it yet";
  }
  ScriptCluster next(base_ + "/next");
  EXPECT_FALSE(netns_exists(killed_ns)) << "the next start removes what the killed one left";
  EXPECT_EQ(processes_of(killed_dir), "");
  EXPECT_EQ(next.process().stop(SIGTERM, 30s), 143);
  expect_nothing_left(next.netns(), next.dir());
  expect_nothing_left(killed_ns, killed_dir);
}

}  // namespace
