#pragma once
// HS256 keys that are published: the defaults and placeholders of framework docs, tutorials and
// .env examples that apps ship with when nobody sets their secret. Each notes where it is seen;
// the value itself is never printed in a finding (it might be the app's real key).
#include <string_view>
#include <vector>

namespace kgate::security {

struct PublishedSecret {
  std::string_view value;
  std::string_view where;  // where it is published, for the finding
};

const std::vector<PublishedSecret>& published_secrets();

}  // namespace kgate::security
