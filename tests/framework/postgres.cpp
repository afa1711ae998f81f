#include "framework/postgres.hpp"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <kgate/wait.hpp>

#include "framework/todo_app.hpp"

namespace kgate::testfw {

namespace fs = std::filesystem;

namespace {

struct ConnFree {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};

std::string conninfo(unsigned short port, const std::string& database) {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=" + database +
         " connect_timeout=5";
}

// Gives the tree to the postgres user, which runs initdb and the server.
void chown_tree(const std::string& path, unsigned uid, unsigned gid) {
  if (::chown(path.c_str(), uid, gid) != 0) {
    throw std::runtime_error("chown " + path + " failed");
  }
  for (const auto& entry : fs::recursive_directory_iterator(path)) {
    if (::lchown(entry.path().c_str(), uid, gid) != 0) {
      throw std::runtime_error("chown " + entry.path().string() + " failed");
    }
  }
}

std::string run_sql(unsigned short port, const std::string& database, const std::string& sql,
                    bool want_value) {
  std::unique_ptr<PGconn, ConnFree> conn(PQconnectdb(conninfo(port, database).c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(std::string("cannot connect to test PostgreSQL: ") +
                             PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, ResultFree> result(PQexec(conn.get(), sql.c_str()));
  auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("SQL failed (" + sql + "): " + PQerrorMessage(conn.get()));
  }
  if (!want_value || PQntuples(result.get()) == 0 || PQnfields(result.get()) == 0 ||
      PQgetisnull(result.get(), 0, 0)) {
    return {};
  }
  return PQgetvalue(result.get(), 0, 0);
}

}  // namespace

std::string PostgresServer::bin_dir() {
  if (const char* env = std::getenv("KGATE_PG_BIN"); env && *env) return env;
  const fs::path root = "/usr/lib/postgresql";
  std::error_code ec;
  int best = -1;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!fs::exists(entry.path() / "bin" / "initdb")) continue;
    best = std::max(best, std::stoi(name));
  }
  if (best < 0) return "/usr/lib/postgresql/15/bin";
  return (root / std::to_string(best) / "bin").string();
}

bool PostgresServer::available() {
  auto dir = bin_dir();
  return ::access((dir + "/initdb").c_str(), X_OK) == 0 &&
         ::access((dir + "/postgres").c_str(), X_OK) == 0;
}

PostgresServer::PostgresServer(std::string database) : database_(std::move(database)) {
  if (!available()) throw std::runtime_error("PostgreSQL binaries not found in " + bin_dir());
  dir_ = make_temp_dir("kgate-pg-");
  data_dir_ = dir_ + "/data";
  try {
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (!pw) throw std::runtime_error("running as root but there is no 'postgres' user");
      uid_ = pw->pw_uid;
      gid_ = pw->pw_gid;
      chown_tree(dir_, *uid_, *gid_);
    }
    kgate::ProcessSpec initdb;
    initdb.program = bin_dir() + "/initdb";
    initdb.args = {"-D", data_dir_, "-U",         "postgres", "--auth=trust",
                   "-E", "UTF8",    "--locale=C", "--no-sync"};
    initdb.log_path = dir_ + "/initdb.log";
    initdb.workdir = dir_;
    initdb.run_as_uid = uid_;
    initdb.run_as_gid = gid_;
    initdb.env_unset = {"PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE"};
    kgate::ChildProcess init(initdb);
    auto status = init.wait(std::chrono::seconds(120));
    if (!status || *status != 0) {
      throw std::runtime_error("initdb failed:\n" + init.log_tail());
    }
    port_ = kgate::free_loopback_port();
    launch();
    create_database(database_);
  } catch (...) {
    server_ = kgate::ChildProcess();
    remove_temp_dir(dir_);
    throw;
  }
}

PostgresServer::~PostgresServer() {
  if (server_.pid() > 0) server_.stop(SIGINT, std::chrono::seconds(20));
  remove_temp_dir(dir_);
}

void PostgresServer::launch() {
  // The port came from free_loopback_port(), which can race with another process: retry with a
  // new port if the server exits at once.
  for (int attempt = 0; attempt < 3; ++attempt) {
    kgate::ProcessSpec spec;
    spec.program = bin_dir() + "/postgres";
    spec.args = {"-D", data_dir_,
                 "-p", std::to_string(port_),
                 "-c", "listen_addresses=127.0.0.1",
                 "-c", "unix_socket_directories=" + dir_,
                 "-c", "fsync=off",
                 "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off",
                 "-c", "max_connections=200",
                 "-c", "shared_buffers=32MB"};
    spec.log_path = dir_ + "/postgres.log";
    spec.workdir = dir_;
    spec.run_as_uid = uid_;
    spec.run_as_gid = gid_;
    spec.env_unset = {"PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE"};
    server_ = kgate::ChildProcess(spec);
    const std::string info = conninfo(port_, "postgres");
    bool exited = false;
    auto ready = kgate::wait_until(
        [&](std::string* why) {
          if (!server_.running()) {
            exited = true;
            return true;
          }
          auto ping = PQping(info.c_str());
          *why = "PQping says " + std::to_string(static_cast<int>(ping));
          return ping == PQPING_OK;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50));
    if (ready.ok && !exited) return;
    std::string tail = server_.log_tail();
    server_.stop(SIGKILL, std::chrono::seconds(5));
    if (!exited) throw std::runtime_error("PostgreSQL did not accept connections:\n" + tail);
    port_ = kgate::free_loopback_port();
    if (attempt == 2) throw std::runtime_error("PostgreSQL exited at start:\n" + tail);
  }
}

std::string PostgresServer::url_for(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

void PostgresServer::execute(const std::string& sql) const {
  run_sql(port_, database_, sql, false);
}

std::string PostgresServer::query_value(const std::string& sql) const {
  return run_sql(port_, database_, sql, true);
}

void PostgresServer::create_database(const std::string& name) const {
  run_sql(port_, "postgres", "CREATE DATABASE \"" + name + "\"", false);
}

void PostgresServer::stop() {
  if (server_.pid() > 0) server_.stop(SIGINT, std::chrono::seconds(20));
}

void PostgresServer::start() {
  if (running()) return;
  launch();
}

bool PostgresServer::running() {
  return server_.pid() > 0 && server_.running();
}

}  // namespace kgate::testfw
