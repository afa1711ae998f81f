#pragma once
// Live objects through kube::Client, read-only (get and list): the namespace's workloads, their
// ReplicaSets and running pods, Services, Ingresses, HPAs, PDBs, NetworkPolicies, service
// accounts, ConfigMaps, Secrets (names and keys only: values are dropped as they arrive), and
// the RBAC that binds the app's service accounts.
#include <string>

#include "kgate/audit/object.hpp"

namespace kgate::kube {
class Client;
}

namespace kgate::audit {

struct LiveOptions {
  std::string ns;        // required
  std::string selector;  // a label selector for the app's objects (e.g.
                         // app.kubernetes.io/instance=todo); empty: all
};

// Throws kube::ApiError / http errors as the client does (the caller maps them to exit codes).
Objects load_live(kube::Client& client, const LiveOptions& options);

}  // namespace kgate::audit
