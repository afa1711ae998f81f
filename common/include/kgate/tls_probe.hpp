#pragma once
// A TLS probe for the security suite: connect to a https target, complete one handshake and
// report what was negotiated and whether the certificate would be trusted, without enforcing
// it, so a check can say *why* a target fails ("certificate has expired") instead of only
// "handshake failed". Depends only on OpenSSL and the standard library.
//
// Nothing here throws: every failure is reported in the result. Every step (name lookup,
// connect, handshake) is bounded by ProbeOptions::timeout.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kgate::tls {

struct ProbeOptions {
  std::string host;  // name or IP literal ("[::1]" accepted) to connect to
  unsigned short port = 443;
  // Server name sent in SNI and checked against the certificate; empty = host. SNI is not sent
  // for IP literals (RFC 6066), but the certificate is still checked against the IP.
  std::string sni;
  std::string ca_file;  // PEM bundle of trusted CAs; empty = the system default store
  std::chrono::milliseconds timeout{5000};  // bounds lookup + connect + handshake together
};

struct CertInfo {
  std::string subject;  // RFC 2253, e.g. "CN=localhost,O=kgate"
  std::string issuer;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries, textual
  std::string not_before;                 // ISO 8601 UTC, e.g. "2025-01-31T12:00:00Z"
  std::string not_after;
  bool expired = false;
  bool not_yet_valid = false;
  long days_left = 0;  // whole days until notAfter; negative once expired
};

struct ProbeResult {
  bool tcp_connected = false;  // the TCP connection was established
  bool connected = false;      // ...and the TLS handshake completed
  std::string error;           // why not, when !connected
  std::string protocol;        // negotiated, e.g. "TLSv1.3"
  std::string cipher;          // e.g. "TLS_AES_256_GCM_SHA384"
  bool chain_valid = false;    // the chain verifies against ca_file (or the system store)
  std::string verify_error;    // X509_verify_cert_error_string when !chain_valid
  bool host_matches = false;   // the leaf is valid for sni (or host)
  CertInfo leaf;               // filled when connected and the server sent a certificate
};

// One full handshake offering the highest version this OpenSSL supports. Chain and host
// verification are recorded, not enforced: the handshake completes even when the chain is
// invalid so the result can say why.
ProbeResult probe(const ProbeOptions& options);

// Does the server accept a handshake at exactly `version` (TLS1_VERSION, TLS1_1_VERSION,
// TLS1_2_VERSION, TLS1_3_VERSION from <openssl/ssl.h>)? The client is pinned to that one
// version (minimum = maximum) and runs at security level 0 so OpenSSL 3 is able to offer
// TLS 1.0/1.1 at all. Returns true if the handshake succeeded, false if the server refused it,
// and std::nullopt (with *error set) when the answer is unknown: lookup or TCP connect failed,
// or the handshake timed out.
std::optional<bool> accepts_version(const ProbeOptions& options, int version,
                                    std::string* error = nullptr);

}  // namespace kgate::tls
