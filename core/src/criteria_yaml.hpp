#pragma once
// Reading a `criteria:` list into CriteriaConfig, shared by kgate.yaml's reader (config.cpp) and
// --criteria FILE (criteria.cpp). Internal to kgate_core, so yaml-cpp stays out of public headers.
#include <yaml-cpp/yaml.h>

#include <string>

#include "kgate/config.hpp"

namespace kgate {

// Throws ConfigError naming file:line:column and the key.
CriteriaConfig read_criteria(const YAML::Node& list, const std::string& file);

}  // namespace kgate
