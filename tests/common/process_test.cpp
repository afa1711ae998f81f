#include "kgate/process.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "kgate/wait.hpp"

namespace kgate {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Process : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kgate-process-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string log() const { return (dir_ / "child.log").string(); }

  ProcessSpec shell(std::string script) const {
    ProcessSpec spec;
    spec.program = "sh";
    spec.args = {"-c", std::move(script)};
    spec.log_path = log();
    return spec;
  }

  fs::path dir_;
};

TEST_F(Process, ExitCodeAndLogCapture) {
  ChildProcess p(shell("echo to-stdout; echo to-stderr >&2; exit 3"));
  EXPECT_GT(p.pid(), 0);
  auto status = p.wait(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 3);
  EXPECT_EQ(p.exit_status(), 3);
  EXPECT_FALSE(p.running());
  auto tail = p.log_tail();
  EXPECT_NE(tail.find("to-stdout"), std::string::npos);
  EXPECT_NE(tail.find("to-stderr"), std::string::npos);
  EXPECT_EQ(p.log_tail(4), "err\n");
}

TEST_F(Process, LogIsTruncatedPerStart) {
  { ChildProcess(shell("echo first")).wait(5s); }
  ChildProcess p(shell("echo second"));
  p.wait(5s);
  EXPECT_EQ(p.log_tail(), "second\n");
}

TEST_F(Process, StopWithSigterm) {
  ChildProcess p(shell("exec sleep 30"));
  EXPECT_TRUE(p.running());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(p.stop(SIGTERM, 5s), 128 + SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.exit_status(), 128 + SIGTERM);
}

TEST_F(Process, StopEscalatesToSigkill) {
  // An ignored SIGTERM survives exec, so sleep ignores it too.
  ChildProcess p(shell("trap '' TERM; echo ready; exec sleep 30"));
  // Signal only once the trap is in place.
  ASSERT_TRUE(
      wait_until([&](std::string*) { return p.log_tail().find("ready") != std::string::npos; }, 5s,
                 10ms)
          .ok);
  EXPECT_EQ(p.stop(SIGTERM, 200ms), 128 + SIGKILL);
}

TEST_F(Process, WaitTimesOut) {
  ChildProcess p(shell("exec sleep 30"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(p.wait(100ms).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  p.signal(SIGKILL);
  EXPECT_EQ(p.wait(5s), 128 + SIGKILL);
}

TEST_F(Process, EnvironmentAndWorkdir) {
  ::setenv("KGATE_TEST_INHERITED", "inherited", 1);
  ::setenv("KGATE_TEST_DROPPED", "dropped", 1);
  auto spec =
      shell("echo \"$KGATE_TEST_SET|$KGATE_TEST_INHERITED|${KGATE_TEST_DROPPED:-none}\"; pwd");
  spec.env_set = {{"KGATE_TEST_SET", "set-value"}};
  spec.env_unset = {"KGATE_TEST_DROPPED"};
  spec.workdir = dir_.string();
  ChildProcess p(spec);
  ASSERT_EQ(p.wait(5s), 0);
  EXPECT_EQ(p.log_tail(), "set-value|inherited|none\n" + fs::canonical(dir_).string() + "\n");
  ::unsetenv("KGATE_TEST_INHERITED");
  ::unsetenv("KGATE_TEST_DROPPED");
}

TEST_F(Process, DestructorStopsChild) {
  int pid;
  {
    ChildProcess p(shell("exec sleep 30"));
    pid = p.pid();
  }
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the pid no longer exists (for us)
}

TEST_F(Process, OutlivesTheThreadThatStartedIt) {
  // The parent-death signal (SIGKILL) fires when the thread that forked exits; it must follow
  // the process instead. Shown by events rather than by time: once the starting thread is gone
  // from /proc/self/task, any such signal has been sent; the child must then still be the one
  // our SIGTERM ends, not one a SIGKILL already ended.
  ChildProcess p;
  pid_t tid = 0;
  std::thread([&] {
    tid = ::gettid();
    p = ChildProcess(shell("exec sleep 30"));
  }).join();
  const fs::path task = "/proc/self/task/" + std::to_string(tid);
  ASSERT_TRUE(wait_until([&](std::string*) { return !fs::exists(task); }, 5s, 1ms).ok);
  EXPECT_EQ(p.stop(), 128 + SIGTERM);
}

// A process in /proc that is neither gone nor a zombie (a killed orphan is a zombie until init
// reaps it).
bool alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

// The pid a child shell wrote to `file`, once it has.
int pid_written(const fs::path& file) {
  int pid = 0;
  EXPECT_TRUE(wait_until(
                  [&](std::string*) {
                    std::ifstream in(file);
                    return static_cast<bool>(in >> pid) && pid > 0;
                  },
                  5s, 1ms)
                  .ok);
  return pid;
}

TEST_F(Process, ProcessGroupStopsWithItsLeader) {
  const fs::path pid_file = dir_ / "grandchild.pid";
  const std::string script = "sleep 300 & echo $! > " + pid_file.string() + ".tmp && mv " +
                             pid_file.string() + ".tmp " + pid_file.string() + "; wait";
  // Without a group of its own, stopping the shell leaves its child behind...
  {
    ChildProcess p(shell(script));
    const int grandchild = pid_written(pid_file);
    EXPECT_EQ(p.stop(), 128 + SIGTERM);
    EXPECT_TRUE(alive(grandchild));
    ::kill(grandchild, SIGKILL);
    fs::remove(pid_file);
  }
  // ...with one, the group goes with it.
  auto spec = shell(script);
  spec.new_process_group = true;
  ChildProcess p(spec);
  const int grandchild = pid_written(pid_file);
  EXPECT_EQ(p.stop(), 128 + SIGTERM);
  EXPECT_TRUE(wait_until([&](std::string*) { return !alive(grandchild); }, 5s, 1ms).ok)
      << "pid " << grandchild << " survived its group leader";
}

TEST_F(Process, RunCommandCapturesOutputAndStatus) {
  ProcessSpec spec = shell("echo out; echo err >&2; exit 7");
  auto r = run_command(spec);
  EXPECT_EQ(r.status, 7);
  EXPECT_EQ(r.signal, 0);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(fs::exists(log())) << "captured, not logged";

  spec = shell("kill -TERM $$");
  r = run_command(spec);
  EXPECT_EQ(r.status, 128 + SIGTERM);
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST_F(Process, RunCommandFeedsStdinOrNothing) {
  CommandOptions o;
  o.input = std::string(200000, 'x') + "\nend\n";  // more than a pipe buffer
  auto r = run_command(shell("wc -c; tail -n1"), o);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "200005\n");  // wc took it all, tail had nothing left
  r = run_command(shell("[ -t 0 ] && exit 3; if read -r line; then exit 4; fi; echo eof"));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "eof\n") << "stdin is /dev/null without input";
  o.input = "ignored";
  r = run_command(shell("exec true"), o);  // a command that does not read: no SIGPIPE for us
  EXPECT_EQ(r.status, 0);
}

TEST_F(Process, RunCommandTimeoutKillsTheGroup) {
  const fs::path pid_file = dir_ / "grandchild.pid";
  auto spec = shell("sleep 300 & echo $! > " + pid_file.string() + "; echo waiting >&2; wait");
  spec.new_process_group = true;
  CommandOptions o;
  o.timeout = 300ms;
  const auto started = std::chrono::steady_clock::now();
  auto r = run_command(spec, o);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.err, "waiting\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  const int grandchild = pid_written(pid_file);
  EXPECT_TRUE(wait_until([&](std::string*) { return !alive(grandchild); }, 5s, 1ms).ok);
}

TEST_F(Process, RunCommandBoundsItsOutput) {
  CommandOptions o;
  o.max_stdout = 1000;
  o.max_stderr = 10;
  auto r = run_command(shell("printf '%s' 0123456789abcdef >&2; yes"), o);
  EXPECT_TRUE(r.stdout_overflow);
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_EQ(r.err, "6789abcdef") << "the tail of stderr";
  EXPECT_EQ(r.signal, SIGKILL);
}

TEST_F(Process, RunCommandStartFailures) {
  ProcessSpec missing;
  missing.program = "kgate-no-such-program";
  try {
    run_command(missing);
    FAIL() << "started";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.error(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("kgate-no-such-program"), std::string::npos);
  }
  ProcessSpec not_exec;
  not_exec.program = (dir_ / "not-executable").string();
  std::ofstream(not_exec.program) << "#!/bin/sh\n";
  fs::permissions(not_exec.program, fs::perms::owner_read | fs::perms::owner_write);
  try {
    run_command(not_exec);
    FAIL() << "started";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.error(), EACCES) << e.what();
  }
}

TEST_F(Process, MoveTransfersOwnership) {
  ChildProcess a(shell("exec sleep 30"));
  int pid = a.pid();
  ChildProcess b(std::move(a));
  EXPECT_EQ(b.pid(), pid);
  EXPECT_FALSE(a.running());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_TRUE(b.running());
  ChildProcess c;
  c = std::move(b);
  EXPECT_TRUE(c.running());
  EXPECT_EQ(c.stop(), 128 + SIGTERM);
}

TEST_F(Process, StartFailuresNameTheProgram) {
  ProcessSpec missing;
  missing.program = "kgate-no-such-program";
  try {
    ChildProcess p(missing);
    FAIL() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("kgate-no-such-program"), std::string::npos);
  }
  ProcessSpec bad_dir = shell("true");
  bad_dir.workdir = "/nonexistent/kgate";
  try {
    ChildProcess p(bad_dir);
    FAIL() << "started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("chdir"), std::string::npos) << e.what();
  }
  ProcessSpec not_exec;
  not_exec.program = "/etc/hostname";
  EXPECT_THROW(ChildProcess{not_exec}, std::runtime_error);
}

TEST(ProcessHelpers, SelfExeDirAndPort) {
  auto dir = self_exe_dir();
  EXPECT_TRUE(fs::exists(fs::path(dir) / "common_test")) << dir;
  auto port = free_loopback_port();
  EXPECT_GT(port, 0);
}

}  // namespace
}  // namespace kgate
