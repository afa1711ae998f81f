#include "kgate/process.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
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
  // The parent-death signal must follow the process, not the starting thread.
  ChildProcess p;
  std::thread([&] { p = ChildProcess(shell("exec sleep 30")); }).join();
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(p.running());
  EXPECT_EQ(p.stop(), 128 + SIGTERM);
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
