#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "kgate/reports.hpp"

namespace kgate::reports {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error("cannot write report " + path + ": " + what + ": " +
                           std::generic_category().message(err));
}

// Closes the descriptor and removes the temporary file unless disarmed.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Closes now, reporting the error (close can report a delayed write error).
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void keep() { path_.clear(); }

 private:
  int fd_;
  std::string path_;
};

void fsync_directory(const fs::path& dir) {
  // Makes the rename durable. Best effort: some file systems refuse fsync on directories.
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& content) {
  if (path.empty()) throw std::runtime_error("cannot write report: empty path");
  const fs::path target(path);
  if (!target.has_filename()) fail(path, "the path names a directory", EISDIR);

  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(path, "cannot create directory " + dir.string(), ec.value());

  // The temporary file lives next to the target so that rename() is atomic (same file system).
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) fail(path, "cannot create a temporary file in " + dir.string(), errno);
  TempFile tmp(fd, name.data());

  // mkstemp creates 0600; reports are meant to be read by others (CI artifacts, web servers).
  if (::fchmod(tmp.fd(), 0644) != 0) fail(path, "chmod " + tmp.path(), errno);

  const char* data = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(tmp.fd(), data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "write " + tmp.path(), errno);
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(tmp.fd()) != 0) fail(path, "fsync " + tmp.path(), errno);
  if (tmp.close() != 0) fail(path, "close " + tmp.path(), errno);
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) fail(path, "rename", errno);
  tmp.keep();
  fsync_directory(dir);
}

}  // namespace kgate::reports
