#pragma once
// The executor implementations, one file each; make_executor() picks one.
#include "kgate/load/executor.hpp"

namespace kgate::load::detail {

std::unique_ptr<Executor> constant_arrival_rate(const ExecutorSpec& spec);
std::unique_ptr<Executor> ramping_arrival_rate(const ExecutorSpec& spec);
std::unique_ptr<Executor> constant_vus(const ExecutorSpec& spec);
std::unique_ptr<Executor> ramping_vus(const ExecutorSpec& spec);

// Throws std::invalid_argument("<type>: <what>") unless ok.
void require(bool ok, const ExecutorSpec& spec, const std::string& what);

}  // namespace kgate::load::detail
