#include "kgate/load/todo_mix.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "kgate/url.hpp"

namespace kgate::load {

namespace {

enum MixOp : std::uint32_t { kList, kCreate, kToggle, kDelete, kOps };
constexpr const char* kOpNames[kOps] = {"list", "create", "toggle", "delete"};

std::string expand(std::string pattern, const std::string& user, const std::string& id) {
  for (auto [key, value] :
       {std::pair<std::string, std::string>{"{user_id}", url_encode_segment(user)},
        {"{id}", url_encode_segment(id)}})
    for (auto pos = pattern.find(key); pos != std::string::npos; pos = pattern.find(key, pos))
      pattern.replace(pos, key.size(), value);
  return pattern;
}

}  // namespace

// One thread's state: its own random numbers, live tasks and requests in flight.
struct TodoMix::Thread {
  std::mt19937_64 rng;
  std::vector<Task> live;
  struct Pending {
    MixOp op = kList;
    Task task;
  };
  std::vector<Pending> pending;     // indexed by tag
  std::vector<std::uint32_t> free;  // reusable tags
  std::uint64_t sent[kOps] = {};
  std::uint64_t serial = 0;

  std::uint32_t remember(MixOp op, Task task) {
    std::uint32_t tag;
    if (!free.empty()) {
      tag = free.back();
      free.pop_back();
    } else {
      tag = static_cast<std::uint32_t>(pending.size());
      pending.emplace_back();
    }
    pending[tag] = {op, std::move(task)};
    return tag;
  }
};

TodoMix::TodoMix(TodoMixOptions options) : o_(std::move(options)) {
  if (o_.identities.empty()) throw std::invalid_argument("todo mix: no identities");
  if (o_.list + o_.create + o_.toggle + o_.remove == 0)
    throw std::invalid_argument("todo mix: every weight is 0");
  Url u = Url::parse(o_.base_url);
  host_header_ = u.host_header();
  prefix_ = u.target == "/" ? "" : u.target;
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
}

TodoMix::~TodoMix() = default;

void TodoMix::start(int threads) {
  threads_.clear();
  std::random_device seed;
  for (int i = 0; i < threads; ++i) {
    threads_.push_back(std::make_unique<Thread>());
    threads_.back()->rng.seed(seed());
  }
}

std::uint32_t TodoMix::next(int thread, std::string& wire) {
  Thread& t = *threads_[static_cast<std::size_t>(thread)];
  const unsigned total = o_.list + o_.create + o_.toggle + o_.remove;
  unsigned roll = static_cast<unsigned>(t.rng() % total);
  MixOp op = roll < o_.list                           ? kList
             : roll < o_.list + o_.create             ? kCreate
             : roll < o_.list + o_.create + o_.toggle ? kToggle
                                                      : kDelete;
  // Toggles and deletes need a task: without one yet, create it.
  if ((op == kToggle || op == kDelete) && t.live.empty()) op = kCreate;

  Task task;
  std::string method, path, body;
  if (op == kList || op == kCreate) {
    task.identity = static_cast<std::size_t>(t.rng() % o_.identities.size());
    path = expand(o_.tasks_path, o_.identities[task.identity].user_id, "");
    method = op == kList ? "GET" : "POST";
    if (op == kCreate)
      body = nlohmann::json{{"title", o_.title_prefix + "-" + std::to_string(thread) + "-" +
                                          std::to_string(++t.serial)}}
                 .dump();
  } else {
    auto pick = static_cast<std::size_t>(t.rng() % t.live.size());
    task = t.live[pick];
    if (op == kDelete) {  // gone from the live set now; put back if the delete fails
      t.live[pick] = std::move(t.live.back());
      t.live.pop_back();
    }
    const auto& user = o_.identities[task.identity].user_id;
    method = op == kToggle ? o_.complete_method : "DELETE";
    path = expand(op == kToggle ? o_.complete_path : o_.task_path, user, task.id);
  }
  ++t.sent[op];
  wire = method + " " + prefix_ + path + " HTTP/1.1\r\nHost: " + host_header_ +
         "\r\nUser-Agent: kgate-load\r\nAccept: application/json\r\nAuthorization: Bearer " +
         o_.identities[task.identity].token + "\r\n";
  if (!body.empty() || op == kToggle)
    wire +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  wire += "\r\n" + body;
  return t.remember(op, std::move(task));
}

bool TodoMix::wants_body(std::uint32_t tag) const {
  (void)tag;
  return true;  // creates need the id; the others are small
}

void TodoMix::answered(int thread, std::uint32_t tag, int status, std::string_view body) {
  Thread& t = *threads_[static_cast<std::size_t>(thread)];
  auto p = std::move(t.pending[tag]);
  t.free.push_back(tag);
  const bool ok = status >= 200 && status < 300;
  if (p.op == kCreate && ok) {
    auto doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_object() && doc.contains("id")) {
      const auto& id = doc["id"];
      p.task.id = id.is_string() ? id.get<std::string>() : id.dump();
      t.live.push_back(std::move(p.task));
    }
  } else if (p.op == kDelete && !ok && status != 404) {
    t.live.push_back(std::move(p.task));  // still there: delete it afterwards
  }
}

std::vector<TodoMix::Task> TodoMix::remaining() const {
  std::vector<Task> out;
  for (const auto& t : threads_) {
    out.insert(out.end(), t->live.begin(), t->live.end());
    // A create whose answer never came may still have made a task: the caller's cleanup by
    // title catches those.
  }
  return out;
}

std::vector<std::pair<std::string, std::uint64_t>> TodoMix::counts() const {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (std::uint32_t op = 0; op < kOps; ++op) {
    std::uint64_t n = 0;
    for (const auto& t : threads_) n += t->sent[op];
    out.emplace_back(kOpNames[op], n);
  }
  return out;
}

}  // namespace kgate::load
