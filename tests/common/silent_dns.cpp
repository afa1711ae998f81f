#include "silent_dns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <thread>

namespace kgate::test {
namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Binds UDP port 53 on the first free 127.x address; returns the fd (-1 and *why on failure).
int bind_silent_server(std::string* address, std::string* why) {
  for (int last = 53; last < 63; ++last) {
    const std::string ip = "127.53.0." + std::to_string(last);
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *why = errno_text("socket");
      return -1;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      *address = ip;
      return fd;
    }
    *why = errno_text("bind " + ip + ":53");
    ::close(fd);
    if (errno != EADDRINUSE) return -1;
  }
  return -1;
}

}  // namespace

bool run_with_silent_dns(const std::function<void()>& fn, std::string* why) {
  std::string address;
  const int server = bind_silent_server(&address, why);
  if (server < 0) return false;

  char dir_template[] = "/tmp/kgate-silent-dns-XXXXXX";
  if (!::mkdtemp(dir_template)) {
    *why = errno_text("mkdtemp");
    ::close(server);
    return false;
  }
  const std::string conf = std::string(dir_template) + "/resolv.conf";
  // One attempt of 5 s: longer than any deadline a test sets, short enough that the abandoned
  // lookup thread ends soon after the test.
  std::ofstream(conf) << "nameserver " << address << "\noptions timeout:5 attempts:1\n";

  bool ran = false;
  std::exception_ptr error;
  // unshare() moves only the calling thread into the new mount namespace; threads it starts
  // (the resolver's) inherit it.
  std::thread([&] {
    if (::unshare(CLONE_NEWNS) != 0) {
      *why = errno_text("unshare(CLONE_NEWNS)");
      return;
    }
    // Private first, or the bind mount below would propagate to the host's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount(conf.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr) != 0) {
      *why = errno_text("mount");
      return;
    }
    ran = true;
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  ::unlink(conf.c_str());
  ::rmdir(dir_template);
  ::close(server);
  if (error) std::rethrow_exception(error);
  return ran;
}

}  // namespace kgate::test
