#pragma once
// The unready-new-pods fault's lock: a PostgreSQL session advisory lock that one replica holds
// for as long as it lives. /ready answers 503 in every replica that does not hold it, so pods
// added by a scale-up (or any pod started beside a live one) never become Ready, while the one
// that came first keeps serving. A session lock dies with its connection: when the holder exits,
// the next replica to ask takes it.
#include <mutex>
#include <string>

struct pg_conn;

namespace todo {

class ReplicaLock {
 public:
  // `url` is the app's postgresql:// database URL. Connects lazily, on the first held().
  explicit ReplicaLock(std::string url);
  ~ReplicaLock();
  ReplicaLock(const ReplicaLock&) = delete;
  ReplicaLock& operator=(const ReplicaLock&) = delete;

  // True when this process holds the lock: asks the database once a call until it does, and
  // again after the connection (and with it the lock) was lost. Never throws; a database that
  // cannot be reached means "not held".
  bool held();

 private:
  std::string url_;
  std::mutex mu_;
  pg_conn* conn_ = nullptr;
  bool held_ = false;
};

// The lock's key: the same in every replica of the app, distinct from the schema's lock.
constexpr long long kReplicaLockKey = 7201002;

}  // namespace todo
