#pragma once
// "Did you mean" for names people type (config keys and values, suites, threshold metrics):
// the closest known name by edit distance, when it is close enough to be a typo.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kgate {

// Optimal string alignment distance: Levenshtein (insert, delete, substitute) plus the swap of
// two adjacent characters as one edit, the commonest typo ("rsp" -> "rps", "tagret" -> "target").
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, compared without regard to ASCII case, if it is at most
// max(2, min(3, size / 3)) edits away; the first of equally near ones; "" when none is.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace kgate
