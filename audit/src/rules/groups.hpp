#pragma once
// Each file in rules/ declares its rules (metadata next to the function) and lists them here.
#include <vector>

#include "kgate/audit/rules.hpp"

namespace kgate::audit {

std::vector<Rule> pod_security_rules();
std::vector<Rule> secrets_rules();
std::vector<Rule> reliability_rules();
std::vector<Rule> cross_object_rules();
std::vector<Rule> image_rules();

}  // namespace kgate::audit
