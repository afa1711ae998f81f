// Containers as the node agent starts them: the real kgate-container-run shim, real processes,
// real mount namespaces (so these tests need root, as the local cluster does). What a process
// sees is asked of the process itself, through a shell.
#include "container.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kgate/wait.hpp"

namespace kgate::nodeagent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string shim() {
  const char* build = std::getenv("KGATE_BUILD_DIR");
  return std::string(build ? build : ".") + "/fixtures/node-agent/kgate-container-run";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mount namespaces and user switches need root";
    ASSERT_TRUE(fs::exists(shim())) << shim() << " (build kgate-container-run)";
    dir_ = fs::temp_directory_path() / ("kgate-container-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "tmp");
    fs::create_directories(dir_ / "config");
    ::chmod((dir_ / "tmp").c_str(), 0777);
    std::ofstream(dir_ / "config" / "kgate.yaml") << "suites: [smoke]\n";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // A shell in a container with the test's volumes.
  LaunchSpec shell(const std::string& script) {
    LaunchSpec s;
    s.program = "/bin/sh";
    s.argv0 = "sh";
    s.args = {"-c", script};
    s.env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}, {"GREETING", "hello from env"}};
    s.mounts = {{(dir_ / "tmp").string(), "/tmp", false},
                {(dir_ / "config").string(), "/etc/kgate-test-" + std::to_string(::getpid()), true},
                {(dir_ / "tmp").string(), "/kgate-test-top-" + std::to_string(::getpid()), false}};
    s.scratch_dir = (dir_ / "scratch").string();
    s.hostname = "web-0";
    s.log_path = (dir_ / "out.log").string();
    s.error_file = (dir_ / "start-error").string();
    return s;
  }

  // Runs to the end; returns the exit status.
  int run(const LaunchSpec& spec) {
    ContainerProcess p(shim_process_spec(spec, shim()));
    EXPECT_TRUE(p.wait_exit(Clock::now() + 30s)) << "did not exit: " << slurp(spec.log_path);
    return p.exit_status().value_or(-1);
  }

  fs::path dir_;
};

TEST_F(ContainerTest, VolumesAppearAtTheirMountPathsAndTheHostStaysUntouched) {
  const std::string etc = "/etc/kgate-test-" + std::to_string(::getpid());
  const std::string top = "/kgate-test-top-" + std::to_string(::getpid());
  auto spec = shell("cat " + etc + "/kgate.yaml; echo written > /tmp/out; hostname; ls " + top +
                    "; (echo x > " + etc + "/y) 2>/dev/null || echo config-read-only");
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  EXPECT_EQ(slurp(spec.log_path), "suites: [smoke]\nweb-0\nout\nconfig-read-only\n");
  EXPECT_EQ(slurp(dir_ / "tmp" / "out"), "written\n");  // the emptyDir got the write
  // The mount points the host lacked were made in the container's view only.
  EXPECT_FALSE(fs::exists(etc));
  EXPECT_FALSE(fs::exists(top));
  EXPECT_FALSE(fs::exists("/tmp/out"));
}

TEST_F(ContainerTest, RunsAsTheRequestedUserWithNoPrivileges) {
  auto spec = shell(
      "id -u; id -g; id -G; grep CapEff /proc/self/status; grep NoNewPrivs "
      "/proc/self/status");
  spec.security.uid = 1000;
  spec.security.gid = 1000;
  spec.security.groups = {2000};
  spec.security.no_new_privs = true;
  spec.security.drop_all_caps = true;
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  EXPECT_EQ(slurp(spec.log_path),
            "1000\n1000\n1000 2000\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n");
}

TEST_F(ContainerTest, RootWithCapabilitiesDroppedHasNone) {
  auto spec = shell("id -u; grep -E 'Cap(Eff|Bnd)' /proc/self/status");
  spec.security.drop_all_caps = true;
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  EXPECT_EQ(slurp(spec.log_path), "0\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n");
}

TEST_F(ContainerTest, ReadOnlyRootFilesystemLeavesOnlyVolumesWritable) {
  const std::string probe = "/var/tmp/kgate-ro-" + std::to_string(::getpid());
  auto spec = shell("echo x > /tmp/ok && echo tmp-writable; (echo x > " + probe +
                    ") 2>/dev/null || echo root-read-only");
  spec.security.read_only_root = true;
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  EXPECT_EQ(slurp(spec.log_path), "tmp-writable\nroot-read-only\n");
  EXPECT_FALSE(fs::exists(probe));

  // The same with the host's root (no mount point to make): the volume's source lies on the
  // root filesystem, and still the volume is writable and the root is not.
  spec.mounts.resize(1);
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  EXPECT_EQ(slurp(spec.log_path), "tmp-writable\nroot-read-only\n");
  EXPECT_FALSE(fs::exists(probe));

  // The same script with a writable root does write there: the check above can fail.
  spec.security.read_only_root = false;
  ASSERT_EQ(run(spec), 0);
  EXPECT_TRUE(fs::exists(probe));
  fs::remove(probe);
}

TEST_F(ContainerTest, WorkingDirectoryIsMadeWhenMissing) {
  auto spec = shell("pwd");
  spec.workdir = "/kgate-test-top-" + std::to_string(::getpid()) + "/sub";
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  EXPECT_EQ(slurp(spec.log_path), spec.workdir + "\n");
  EXPECT_TRUE(fs::is_directory(dir_ / "tmp" / "sub"));  // inside the volume mounted above it
}

// The library is loaded into the program (asked of its own maps: the path it was given is
// pinned to /proc/self/fd/N when a volume hides it, as the shell's /tmp volume does for a build
// folder under /tmp), and none of the runtime's own variables reach the program.
TEST_F(ContainerTest, PreloadReachesTheProgramOnly) {
  auto spec = shell(
      "grep -q libkgate-podnet /proc/$$/maps && echo preloaded; "
      "env | grep -c KGATE_CONTAINER || true");
  const char* build = std::getenv("KGATE_BUILD_DIR");
  spec.preload = std::string(build ? build : ".") + "/fixtures/node-agent/libkgate-podnet.so";
  ASSERT_TRUE(fs::exists(spec.preload));
  ASSERT_EQ(run(spec), 0);
  EXPECT_EQ(slurp(spec.log_path), "preloaded\n0\n");
  // Without a preload nothing is loaded: the check above can fail.
  spec.preload.clear();
  ASSERT_EQ(run(spec), 0);
  EXPECT_EQ(slurp(spec.log_path), "0\n");
}

// A build folder under /work and an emptyDir at /work (the chart's test pod): the volume hides
// the image's binary and the preload library, which must run and load all the same.
TEST_F(ContainerTest, TheProgramAndThePreloadSurviveAVolumeOverTheirFolder) {
  const fs::path hidden = dir_ / "build";
  fs::create_directories(hidden);
  fs::create_directories(dir_ / "empty");
  fs::copy_file("/bin/sh", hidden / "image-binary");
  const char* build = std::getenv("KGATE_BUILD_DIR");
  fs::copy_file(std::string(build ? build : ".") + "/fixtures/node-agent/libkgate-podnet.so",
                hidden / "libkgate-podnet.so");
  auto spec = shell("ls " + hidden.string() +
                    " | wc -l; grep -q libkgate-podnet /proc/$$/maps && echo preloaded; "
                    "case $LD_PRELOAD in /proc/self/fd/*) echo preload-pinned;; esac");
  spec.program = (hidden / "image-binary").string();
  spec.preload = (hidden / "libkgate-podnet.so").string();
  spec.mounts = {{(dir_ / "empty").string(), hidden.string(), false}};
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  EXPECT_EQ(slurp(spec.log_path), "0\npreloaded\npreload-pinned\n");

  // Without the volume the paths are used as they are.
  spec.mounts.clear();
  spec.args = {"-c", "echo \"$LD_PRELOAD\""};
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  EXPECT_EQ(slurp(spec.log_path), spec.preload + "\n");
}

TEST_F(ContainerTest, AProgramThatCannotStartIsAStartErrorWithTheReason) {
  auto spec = shell("");
  spec.program = "no-such-program-kgate";
  EXPECT_EQ(run(spec), kStartErrorExit);
  EXPECT_EQ(slurp(dir_ / "start-error"),
            "kgate-container-run: exec no-such-program-kgate: No such file or directory\n");
}

TEST_F(ContainerTest, WaitExitWakesOnTheExitItself) {
  auto spec = shell("trap 'exit 7' TERM; while :; do sleep 0.05; done");
  ContainerProcess p(shim_process_spec(spec, shim()));
  EXPECT_FALSE(p.wait_exit(Clock::now() + 300ms));  // still running: the wait ran out
  EXPECT_TRUE(p.running());
  p.signal(SIGTERM);
  const auto start = Clock::now();
  ASSERT_TRUE(p.wait_exit(Clock::now() + 30s));
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(p.exit_status(), 7);
  EXPECT_GE(p.pidfd(), 0);

  std::atomic<bool> abort{true};
  ContainerProcess q(shim_process_spec(shell("sleep 30"), shim()));
  EXPECT_FALSE(q.wait_exit(Clock::now() + 30s, &abort));  // returns at once: aborted
}

TEST_F(ContainerTest, WhenTheMainProcessEndsTheContainersOtherProcessesEndToo) {
  auto spec = shell("sleep 300 & echo $!");
  ASSERT_EQ(run(spec), 0) << slurp(spec.log_path);
  const std::string left = slurp(spec.log_path);
  ASSERT_FALSE(left.empty());
  const std::string proc = "/proc/" + left.substr(0, left.find('\n'));
  // Killed by the agent's reaping of the main process; gone once its parent (init) reaps it.
  auto gone = kgate::wait_until(
      [&](std::string*) {
        return !fs::exists(proc) || slurp(proc + "/stat").find(") Z") != std::string::npos;
      },
      10s, 20ms);
  EXPECT_TRUE(gone.ok) << proc << " outlived its container";
}

TEST_F(ContainerTest, ExecRunsInsideTheContainersViewUserAndEnvironment) {
  const std::string etc = "/etc/kgate-test-" + std::to_string(::getpid());
  auto spec = shell("sleep 60");
  spec.security.uid = 1000;
  spec.security.gid = 1000;
  ContainerProcess main(shim_process_spec(spec, shim()));
  LaunchSpec in = spec;
  in.join_pid = main.pid();
  in.workdir = "/tmp";
  in.log_path = (dir_ / "exec.log").string();
  in.error_file = (dir_ / "exec-error").string();
  auto r = exec_in_container(
      in, {"sh", "-c", "id -u; pwd; hostname; cat " + etc + "/kgate.yaml; echo $GREETING"},
      Clock::now() + 20s, shim());
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(slurp(in.log_path), "1000\n/tmp\nweb-0\nsuites: [smoke]\nhello from env\n");

  r = exec_in_container(in, {"sh", "-c", "echo not ready; exit 3"}, Clock::now() + 20s, shim());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.message, "command exited with 3: not ready");

  // A command that outlives its timeout fails and is killed by the deadline.
  const auto start = Clock::now();
  r = exec_in_container(in, {"sleep", "30"}, Clock::now() + 500ms, shim());
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.exit_code);
  EXPECT_EQ(r.message, "command timed out");
  EXPECT_LT(Clock::now() - start, 10s);

  // Into a container that has gone: a failure that says so, never a pass.
  main.signal(SIGKILL);
  ASSERT_TRUE(main.wait_exit(Clock::now() + 10s));
  r = exec_in_container(in, {"true"}, Clock::now() + 10s, shim());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("is gone"), std::string::npos) << r.message;
}

TEST(ResolveInImage, TheImagesBinaryOrAHostProgram) {
  EXPECT_EQ(resolve_in_image("todo-app", "todo-app", "/b/app/todo-app"), "/b/app/todo-app");
  EXPECT_EQ(resolve_in_image("/usr/local/bin/kgate", "kgate", "/b/core/kgate"), "/b/core/kgate");
  EXPECT_EQ(resolve_in_image("sh", "todo-app", "/b/app/todo-app"), "sh");
}

TEST(SelectLog, TailLinesThenLimitBytes) {
  const std::string log = "one\ntwo\nthree\n";
  EXPECT_EQ(select_log(log, std::nullopt, std::nullopt), log);
  EXPECT_EQ(select_log(log, 2, std::nullopt), "two\nthree\n");
  EXPECT_EQ(select_log(log, 10, std::nullopt), log);
  EXPECT_EQ(select_log(log, 0, std::nullopt), "");
  EXPECT_EQ(select_log("a\nb", 1, std::nullopt), "b");
  EXPECT_EQ(select_log(log, std::nullopt, 5), "one\nt");
  EXPECT_EQ(select_log(log, 1, 3), "thr");
}

}  // namespace
}  // namespace kgate::nodeagent
