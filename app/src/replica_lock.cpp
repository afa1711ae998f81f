#include "replica_lock.hpp"

#include <libpq-fe.h>

#include <spdlog/spdlog.h>

namespace todo {

ReplicaLock::ReplicaLock(std::string url) : url_(std::move(url)) {}

ReplicaLock::~ReplicaLock() {
  if (conn_) PQfinish(conn_);
}

bool ReplicaLock::held() {
  std::lock_guard lock(mu_);
  if (conn_ && PQstatus(conn_) != CONNECTION_OK) {
    // The session (and the lock with it) is gone: start again.
    PQfinish(conn_);
    conn_ = nullptr;
    held_ = false;
  }
  if (held_) {
    // Probe the session cheaply: a dead server shows up as a failed query, and the lock is lost.
    PGresult* r = PQexec(conn_, "SELECT 1");
    const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (ok) return true;
    spdlog::warn("unready-new-pods: lost the replica lock's session: {}", PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    held_ = false;
  }
  if (!conn_) {
    // Settings in the URL override these (expand_dbname); a short statement timeout keeps a
    // readiness probe from hanging on a stuck server.
    const char* keys[] = {"connect_timeout", "application_name", "options", "dbname", nullptr};
    const char* values[] = {"3", "todo-app replica lock", "-c statement_timeout=3000", url_.c_str(),
                            nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) {
      spdlog::debug("unready-new-pods: cannot connect: {}", PQerrorMessage(conn_));
      PQfinish(conn_);
      conn_ = nullptr;
      return false;
    }
  }
  const std::string key = std::to_string(kReplicaLockKey);
  const char* params[] = {key.c_str()};
  PGresult* r = PQexecParams(conn_, "SELECT pg_try_advisory_lock($1::bigint)", 1, nullptr, params,
                             nullptr, nullptr, 0);
  held_ = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
          std::string(PQgetvalue(r, 0, 0)) == "t";
  PQclear(r);
  if (held_) spdlog::warn("unready-new-pods: this replica holds the lock and reports ready");
  return held_;
}

}  // namespace todo
