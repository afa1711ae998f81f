#include "label_selector.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace kgate::nodeagent {
namespace {

using nlohmann::json;

// The message of the std::invalid_argument that f throws ("" when it throws nothing).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(LabelSelector, EmptyMatchesEverything) {
  auto s = LabelSelector::parse("");
  EXPECT_TRUE(s.matches_everything());
  EXPECT_TRUE(s.matches(json::object()));
  EXPECT_TRUE(s.matches(nullptr));
  EXPECT_TRUE(LabelSelector::parse("   ").matches(json{{"a", "b"}}));
}

TEST(LabelSelector, EqualityOperators) {
  const json labels = {{"app", "web"}, {"tier", "front"}};
  EXPECT_TRUE(LabelSelector::parse("app=web").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app==web").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app=db").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("missing=web").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app!=db").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app!=web").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("missing!=web").matches(labels));  // absent counts as unequal
  EXPECT_TRUE(LabelSelector::parse("app=web,tier=front").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app=web,tier=back").matches(labels));
  EXPECT_TRUE(LabelSelector::parse(" app = web , tier == front ").matches(labels));
  // An empty value matches an empty label, not an absent one.
  EXPECT_TRUE(LabelSelector::parse("e=").matches(json{{"e", ""}}));
  EXPECT_FALSE(LabelSelector::parse("e=").matches(labels));
}

TEST(LabelSelector, SetAndExistenceOperators) {
  const json labels = {{"app", "web"}, {"env", "prod"}};
  EXPECT_TRUE(LabelSelector::parse("app in (web,db)").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app in ( db , web )").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app in (db)").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("missing in (web)").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app notin (db,cache)").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app notin (web)").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("missing notin (web)").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("missing").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("!missing").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("!app").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("a.example.com/b-c_d.e=x")
                  .matches(json{{"a.example.com/b-c_d.e", "x"}}));
}

TEST(LabelSelector, AllOperatorsTogether) {
  auto s = LabelSelector::parse("a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j");
  ASSERT_EQ(s.requirements().size(), 7u);
  EXPECT_EQ(s.requirements()[3].op, LabelSelector::Op::In);
  EXPECT_EQ(s.requirements()[3].values, (std::vector<std::string>{"x", "y"}));
  const json labels = {{"a", "b"}, {"c", "d"}, {"e", "g"}, {"g", "y"}, {"h", "q"}, {"i", ""}};
  EXPECT_TRUE(s.matches(labels));
  auto with = [&](const char* key, const json& value) {
    json l = labels;
    if (value.is_null()) {
      l.erase(key);
    } else {
      l[key] = value;
    }
    return l;
  };
  EXPECT_FALSE(s.matches(with("a", "x")));
  EXPECT_FALSE(s.matches(with("c", nullptr)));
  EXPECT_FALSE(s.matches(with("e", "f")));
  EXPECT_FALSE(s.matches(with("g", "z")));
  EXPECT_FALSE(s.matches(with("h", "z")));
  EXPECT_FALSE(s.matches(with("i", nullptr)));
  EXPECT_FALSE(s.matches(with("j", "1")));
}

TEST(LabelSelector, NumericComparisons) {
  EXPECT_TRUE(LabelSelector::parse("n>3").matches(json{{"n", "4"}}));
  EXPECT_FALSE(LabelSelector::parse("n>3").matches(json{{"n", "3"}}));
  EXPECT_TRUE(LabelSelector::parse("n < 3").matches(json{{"n", "-1"}}));
  EXPECT_FALSE(LabelSelector::parse("n<3").matches(json{{"n", "x"}}));
  EXPECT_FALSE(LabelSelector::parse("n<3").matches(json::object()));
}

TEST(LabelSelector, ParseErrorsNameTheRequirement) {
  auto err = error_of([] { LabelSelector::parse("a=b,c in x,d"); });
  EXPECT_NE(err.find("in \"c in x\""), std::string::npos) << err;
  EXPECT_NE(err.find("expected '('"), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("a=b,c notin ()"); });
  EXPECT_NE(err.find("at least one value"), std::string::npos) << err;
  EXPECT_NE(err.find("\"c notin ()\""), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("a in (x,y"); });
  EXPECT_NE(err.find("expected ',' or ')'"), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("a=b=c"); });
  EXPECT_NE(err.find("\"a=b=c\""), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("=b"); });
  EXPECT_NE(err.find("empty label key"), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("a b"); });
  EXPECT_NE(err.find("after \"a\""), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("!a=b"); });
  EXPECT_NE(err.find("'!key'"), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("-bad=x"); });
  EXPECT_NE(err.find("invalid label key \"-bad\""), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("ok=bad value!"); });
  EXPECT_FALSE(err.empty());

  err = error_of([] { LabelSelector::parse("n>x"); });
  EXPECT_NE(err.find("integer"), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse("a=b,"); });
  EXPECT_NE(err.find("empty label key"), std::string::npos) << err;

  err = error_of([] { LabelSelector::parse(std::string(64, 'k') + "=v"); });
  EXPECT_NE(err.find("1-63"), std::string::npos) << err;
}

TEST(LabelSelector, FromJson) {
  auto s = LabelSelector::from_json(json::parse(R"({
    "matchLabels": {"app": "web"},
    "matchExpressions": [
      {"key": "env", "operator": "In", "values": ["prod", "staging"]},
      {"key": "tier", "operator": "NotIn", "values": ["db"]},
      {"key": "team", "operator": "Exists"},
      {"key": "legacy", "operator": "DoesNotExist", "values": []}
    ]})"));
  const json labels = {{"app", "web"}, {"env", "prod"}, {"tier", "front"}, {"team", "x"}};
  EXPECT_TRUE(s.matches(labels));
  auto changed = [&](const char* key, const char* value) {
    json l = labels;
    l[key] = value;
    return l;
  };
  EXPECT_FALSE(s.matches(changed("app", "db")));
  EXPECT_FALSE(s.matches(changed("env", "dev")));
  EXPECT_FALSE(s.matches(changed("tier", "db")));
  EXPECT_FALSE(s.matches(changed("legacy", "yes")));
  json no_team = labels;
  no_team.erase("team");
  EXPECT_FALSE(s.matches(no_team));

  // As metav1.LabelSelectorAsSelector: {} selects everything, null nothing.
  EXPECT_TRUE(LabelSelector::from_json(json::object()).matches(labels));
  EXPECT_TRUE(LabelSelector::from_json(json::object()).matches_everything());
  EXPECT_FALSE(LabelSelector::from_json(nullptr).matches(labels));
  EXPECT_FALSE(LabelSelector::from_json(nullptr).matches(json::object()));
}

TEST(LabelSelector, FromJsonErrorsNameTheField) {
  auto err = error_of([] {
    LabelSelector::from_json(json::parse(
        R"({"matchExpressions": [{"key": "a", "operator": "Exists"},
                                  {"key": "b", "operator": "Gt", "values": ["1"]}]})"));
  });
  EXPECT_NE(err.find("matchExpressions[1].operator"), std::string::npos) << err;
  EXPECT_NE(err.find("\"Gt\""), std::string::npos) << err;

  err = error_of([] {
    LabelSelector::from_json(
        json::parse(R"({"matchExpressions": [{"key": "a", "operator": "In"}]})"));
  });
  EXPECT_NE(err.find("matchExpressions[0].values"), std::string::npos) << err;

  err = error_of([] {
    LabelSelector::from_json(json::parse(
        R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})"));
  });
  EXPECT_NE(err.find("must be empty"), std::string::npos) << err;

  err = error_of([] { LabelSelector::from_json(json::parse(R"({"matchLabels": {"a": 1}})")); });
  EXPECT_NE(err.find("matchLabels.a"), std::string::npos) << err;

  err = error_of([] { LabelSelector::from_json(json::parse(R"({"matchLabels": {"a b": "x"}})")); });
  EXPECT_NE(err.find("matchLabels.a b"), std::string::npos) << err;

  err = error_of([] { LabelSelector::from_json(json::array()); });
  EXPECT_NE(err.find("must be an object"), std::string::npos) << err;
}

}  // namespace
}  // namespace kgate::nodeagent
