#pragma once
// Each file in rules/ declares every rule as data (a const Rule) right after its check function,
// and returns its group in report order.
#include <vector>

#include "kgate/audit/rules.hpp"

namespace kgate::audit {

std::vector<Rule> pod_security_rules();
std::vector<Rule> secrets_rules();
std::vector<Rule> reliability_rules();
std::vector<Rule> cross_object_rules();
std::vector<Rule> image_rules();

}  // namespace kgate::audit
