#pragma once
// A private PostgreSQL cluster for tests: initdb in a temp dir, a postgres server on a free
// loopback port with trust authentication, one database created. Runs as the `postgres` OS user
// when the tests run as root (initdb refuses root). Stopped and deleted on destruction.
//
//   kgate::testfw::PostgresServer pg;               // throws when PostgreSQL is missing
//   TodoApp api({.database = pg.url()});
#include <optional>
#include <string>

#include <kgate/process.hpp>

namespace kgate::testfw {

class PostgresServer {
 public:
  explicit PostgresServer(std::string database = "kgate_test");
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // postgresql://postgres@127.0.0.1:PORT/<database>
  std::string url() const { return url_for(database_); }
  std::string url_for(const std::string& database) const;
  unsigned short port() const { return port_; }
  const std::string& dir() const { return dir_; }

  // Runs SQL (no parameters: test fixtures only) on the test database; throws on error.
  void execute(const std::string& sql) const;
  // First column of the first row of a query, as text ("" for no rows or NULL).
  std::string query_value(const std::string& sql) const;
  void create_database(const std::string& name) const;

  // Stops the server (fast shutdown) and starts it again on the same port and data.
  void stop();
  void start();
  bool running();
  std::string log_tail() const { return server_.log_tail(); }

  // True when PostgreSQL's binaries are installed (tests skip otherwise).
  static bool available();
  // /usr/lib/postgresql/<newest>/bin, or env KGATE_PG_BIN.
  static std::string bin_dir();

 private:
  void launch();

  std::string database_;
  std::string dir_;
  std::string data_dir_;
  unsigned short port_ = 0;
  std::optional<unsigned> uid_;
  std::optional<unsigned> gid_;
  kgate::ChildProcess server_;
};

}  // namespace kgate::testfw
