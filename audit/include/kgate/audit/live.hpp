#pragma once
// Live objects through kube::Client, read-only (get and list): the namespace's workloads, their
// ReplicaSets and running pods, Services, Ingresses, HPAs, PDBs, NetworkPolicies, service
// accounts, ConfigMaps, Secrets (names and keys only: values are dropped as they arrive), and
// the RBAC that binds the app's service accounts.
#include <string>
#include <vector>

#include "kgate/audit/object.hpp"

namespace kgate::kube {
class Client;
}

namespace kgate::audit {

// A kind the credentials may not read (403): a namespace-scoped Role cannot grant the cluster-wide
// ClusterRoleBindings and ClusterRoles, say. The rules that read it cannot decide without it.
struct Unreadable {
  std::string kind;                // "ClusterRoleBinding"
  std::string reason;              // the API's words
  std::vector<std::string> rules;  // ids of the rules whose outcome is incomplete without it
};

struct LiveOptions {
  std::string ns;        // required
  std::string selector;  // a label selector for the app's objects (e.g.
                         // app.kubernetes.io/instance=todo); empty: all
  // When given, a kind the API refuses (403) is recorded here and left out; else it throws.
  std::vector<Unreadable>* unreadable = nullptr;
};

// Throws kube::ApiError / http errors as the client does (the caller maps them to exit codes).
Objects load_live(kube::Client& client, const LiveOptions& options);

}  // namespace kgate::audit
