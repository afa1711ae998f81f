#pragma once
// The todo mix: each iteration lists, creates, toggles or deletes a task on the contract's API,
// by weight, as one of a pool of test identities. It learns the ids of the tasks it creates
// from the answers, so toggles and deletes hit real tasks; remaining() lists what is left for
// the caller to delete after the run.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kgate/load/engine.hpp"

namespace kgate::load {

struct TodoMixOptions {
  std::string base_url;  // http(s)://host[:port][/prefix]
  std::string tasks_path = "/api/{user_id}/tasks";
  std::string task_path = "/api/{user_id}/tasks/{id}";
  std::string complete_path = "/api/{user_id}/tasks/{id}/complete";
  std::string complete_method = "PATCH";
  struct Identity {
    std::string user_id, token;
  };
  std::vector<Identity> identities;
  // Relative weights of the operations.
  unsigned list = 70, create = 10, toggle = 10, remove = 10;
  std::string title_prefix = "kgate-load";
};

class TodoMix final : public Scenario {
 public:
  // Throws std::invalid_argument without identities, with all weights 0 or a bad base URL.
  explicit TodoMix(TodoMixOptions options);
  ~TodoMix() override;

  void start(int threads) override;
  std::uint32_t next(int thread, std::string& wire) override;
  bool wants_body(std::uint32_t tag) const override;
  void answered(int thread, std::uint32_t tag, int status, std::string_view body) override;

  struct Task {
    std::size_t identity;
    std::string id;
  };
  // Tasks created and not (known to be) deleted: the caller removes them after the run.
  std::vector<Task> remaining() const;
  const std::string& title_prefix() const { return o_.title_prefix; }
  // Operations sent, by name (list, create, toggle, delete).
  std::vector<std::pair<std::string, std::uint64_t>> counts() const;

 private:
  struct Thread;
  TodoMixOptions o_;
  std::string host_header_, prefix_;
  std::vector<std::unique_ptr<Thread>> threads_;
};

}  // namespace kgate::load
