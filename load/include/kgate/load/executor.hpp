#pragma once
// Executors decide WHEN iterations run; they know nothing of HTTP or measurement (k6's split).
// Open model (arrival rate): iterations are scheduled at intended times whatever the server
// does; latency is measured from those times. Closed model (VUs): a number of virtual users
// each send, wait for the answer, think, and send again.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kgate::load {

using Nanos = std::chrono::nanoseconds;

// One step of a ramp: over `duration`, move linearly to `target` (rate per second, or VUs).
struct Stage {
  Nanos duration{0};
  double target = 0;
};

// "30s:100,1m:500,30s:0" → three stages. Throws std::invalid_argument naming the bad part.
std::vector<Stage> parse_stages(std::string_view text);

struct ExecutorSpec {
  std::string type;           // constant-arrival-rate | ramping-arrival-rate | constant-vus |
                              // ramping-vus
  double rate = 0;            // constant-arrival-rate: iterations per second
  double start_rate = 0;      // ramping-arrival-rate: rate before the first stage
  int vus = 0;                // constant-vus
  int start_vus = 0;          // ramping-vus: VUs before the first stage
  Nanos duration{0};          // constant-*
  std::vector<Stage> stages;  // ramping-*
  Nanos think_time{0};        // closed model: pause between a VU's iterations
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual bool open_model() const = 0;
  virtual Nanos duration() const = 0;
  // Open model: the intended start of iteration i (0-based) from the start of the run;
  // nullopt once i is past the end of the schedule. Pure: any thread may ask for any i.
  virtual std::optional<Nanos> arrival(std::uint64_t /*i*/) const { return std::nullopt; }
  // Open model: iterations in the whole schedule.
  virtual std::uint64_t total_iterations() const { return 0; }
  // Closed model: VUs that should be running at t, and the most there will ever be.
  virtual int vus_at(Nanos /*t*/) const { return 0; }
  virtual int max_vus() const { return 0; }
  virtual Nanos think_time() const { return Nanos(0); }
  // "constant-arrival-rate: 500/s for 30s", for logs and reports.
  virtual std::string describe() const = 0;
};

// Builds the executor `spec.type` names. Throws std::invalid_argument saying what is missing or
// out of range (and listing the types when the type is unknown).
std::unique_ptr<Executor> make_executor(const ExecutorSpec& spec);

// Worker `index`'s share of `whole` when `count` workers split it (distributed load): in the
// open model the iterations i ≡ index (mod count), each at its time in the whole schedule; in
// the closed model the VUs v ≡ index (mod count). Together the shares 0..count-1 are exactly
// `whole`, each iteration or VU once. Throws std::invalid_argument unless 0 <= index < count.
std::unique_ptr<Executor> share_of(std::shared_ptr<const Executor> whole, int index, int count);

// "1m30s", "250ms" (for descriptions).
std::string format_duration(Nanos d);

}  // namespace kgate::load
