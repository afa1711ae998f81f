#include "app.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <kgate/url.hpp>

#include "api_router.hpp"
#include "auth.hpp"
#include "better_auth.hpp"
#include "config.hpp"
#include "faults.hpp"
#include "policy.hpp"
#include "server.hpp"
#include "storage.hpp"
#include "version.hpp"
#include "web_router.hpp"

namespace todo {

namespace {

constexpr int kUsageError = 2;
constexpr int kRuntimeError = 1;

void setup_logging(const std::string& level) {
  // Logs go to stderr: stdout carries only the "listening" line that callers wait for.
  auto logger = std::make_shared<spdlog::logger>("todo-app",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

void write_port_file(const std::string& path, unsigned short port) {
  // Write then rename, so a reader never sees a half-written number.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) throw std::runtime_error("cannot write port file " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

int serve_role(const Config& config, const Policy& policy, Handler& handler, Lifecycle& lifecycle) {
  ServerOptions options;
  if (policy.has(Fault::NoBodyLimit)) options.body_limit = std::size_t{64} << 20;
  options.bind = config.bind;
  options.port = config.port;
  options.io_threads = config.threads;
  // Forwarding blocks a thread per request in flight, so the web role gets a larger pool.
  options.worker_threads = config.role == "web" ? std::max(16, 4 * config.threads) : 0;
  options.grace = config.grace;
  options.drain_quiet = config.drain_quiet;
  options.graceful = !policy.has(Fault::NoGracefulShutdown);
  options.log_request_read = config.log_request_read;
  return serve(options, handler, lifecycle, [&](const std::string& host, unsigned short port) {
    std::cout << "todo-app " << config.role << " listening on http://" << host << ":" << port
              << std::endl;
    if (!config.port_file.empty()) write_port_file(config.port_file, port);
    spdlog::info("todo-app {} {} listening on {}:{} ({} threads)", kVersion, config.role, host,
                 port, config.threads);
  });
}

// The database named by --database, or null after printing why (a usage error). A database
// that cannot be opened at all throws, which run_app reports as a runtime error.
std::unique_ptr<Storage> open_database(const Config& config) {
  try {
    // One connection per I/O thread: handlers run there and each holds one at a time.
    return open_storage(config.database, std::clamp(config.threads, 2, 32));
  } catch (const std::invalid_argument& e) {
    std::cerr << "todo-app: invalid --database: " << e.what() << "\n";
    return nullptr;
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot open the database: ") + e.what());
  }
}

AccountOptions account_options(const Config& config, Storage* users) {
  AccountOptions options;
  options.uuid_ids = config.drift.user_id_format == UserIdFormat::Uuid;
  options.strict_email = config.drift.strict_email;
  if (users && config.drift.require_registered_users) {
    options.on_created = [users](const std::string& id, const std::string& email) {
      users->add_user(id, email);
    };
  }
  return options;
}

int run_api(const Config& config, const Policy& policy) {
  if (config.secret.empty() && config.jwks_url.empty()) {
    std::cerr << "todo-app: no token secret: set " << config.secret_env
              << " (or choose the variable with --secret-env, or pass --jwks-url)\n";
    return kUsageError;
  }
  if (!config.jwks_url.empty()) {
    try {
      kgate::Url::parse(config.jwks_url);
    } catch (const std::exception& e) {
      std::cerr << "todo-app: invalid --jwks-url: " << e.what() << "\n";
      return kUsageError;
    }
  }
  // unready-new-pods needs a lock every replica can see: only a shared PostgreSQL has one.
  std::unique_ptr<ReplicaLock> replica_lock;
  if (policy.has(Fault::UnreadyNewPods)) {
    auto pg = postgres_url(config.database);
    if (!pg) {
      std::cerr << "todo-app: the unready-new-pods fault needs a postgresql:// --database (a "
                   "lock shared by the replicas)\n";
      return kUsageError;
    }
    replica_lock = std::make_unique<ReplicaLock>(*pg);
  }
  auto storage = open_database(config);
  if (!storage) return kUsageError;
  if (policy.has(Fault::StateInMemory)) storage = make_memory_storage(std::move(storage));
  if (config.drift.require_registered_users) {
    storage = require_registered_users(std::move(storage));
  }
  if (policy.has(Fault::LyingHealth)) storage = make_failing_storage(std::move(storage));
  spdlog::info("storage: {}{}", storage->kind(),
               policy.has(Fault::StateInMemory) ? " (tasks in memory: state-in-memory fault)" : "");

  if (policy.has(Fault::SqlInjection)) storage->enable_sql_injection_fault();
  AuthOptions auth{config.secret,
                   config.jwks_url,
                   policy.has(Fault::AlgNone),
                   policy.has(Fault::NoSignatureCheck),
                   policy.has(Fault::NoExpiryCheck),
                   {}};
  if (policy.has(Fault::DefaultSecret)) auth.fallback_hs256_secrets = {kFastApiTutorialSecret};
  TokenVerifier verifier(auth);
  Lifecycle lifecycle;
  ApiSettings settings;
  settings.drift = config.drift;
  settings.secret = config.secret;
  settings.replica_lock = replica_lock.get();
  // Own accounts only where the api signs its own tokens (HS256); a JWKS api trusts the frontend.
  std::unique_ptr<BetterAuth> accounts;
  if (!config.secret.empty()) {
    accounts = std::make_unique<BetterAuth>(account_options(config, storage.get()));
    settings.accounts = accounts.get();
  }
  ApiRouter router(*storage, verifier, policy, lifecycle, std::move(settings));
  return serve_role(config, policy, router, lifecycle);
}

int run_web(const Config& config, const Policy& policy) {
  if (!config.backend_url.empty()) {
    try {
      kgate::Url::parse(config.backend_url);
    } catch (const std::exception& e) {
      std::cerr << "todo-app: invalid --backend-url: " << e.what() << "\n";
      return kUsageError;
    }
  } else {
    spdlog::warn("no --backend-url: /api/* answers 502");
  }
  // Better Auth and the backend share one database in the deployments this mirrors: with
  // --require-registered-users, sign-up writes the users row the backend's tasks refer to.
  std::unique_ptr<Storage> users;
  if (config.drift.require_registered_users) {
    users = open_database(config);
    if (!users) return kUsageError;
  }
  BetterAuth auth(account_options(config, users.get()));
  Lifecycle lifecycle;
  WebRouter router(policy, auth, config.backend_url, config.drift.body_limit_status);
  return serve_role(config, policy, router, lifecycle);
}

}  // namespace

int run_app(int argc, char** argv) {
  auto parsed = parse_config(argc, argv);
  if (auto* exit = std::get_if<Exit>(&parsed)) return exit->code;
  const auto& config = std::get<Config>(parsed);
  setup_logging(config.log_level);

  Faults faults;
  try {
    faults = parse_faults(config.faults);
  } catch (const std::invalid_argument& e) {
    std::cerr << "todo-app: " << e.what() << "\n";
    return kUsageError;
  }
  if (faults.any()) {
    std::string names;
    for (const auto& n : faults.names()) names += (names.empty() ? "" : ",") + n;
    spdlog::warn("FAULTS ENABLED: {} (this instance is deliberately broken)", names);
  }
  Policy policy(faults, config.cors_origins);

  // Writes to closed sockets must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return config.role == "web" ? run_web(config, policy) : run_api(config, policy);
  } catch (const std::exception& e) {
    spdlog::critical("todo-app: {}", e.what());
    std::cerr << "todo-app: " << e.what() << "\n";
    return kRuntimeError;
  }
}

}  // namespace todo
