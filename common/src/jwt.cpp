#include "kgate/jwt.hpp"

#include "kgate/openssl_ptr.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace kgate::jwt {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<signed char, 256> make_reverse() {
  std::array<signed char, 256> r{};
  for (auto& v : r) v = -1;
  for (int i = 0; i < 64; ++i)
    r[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
  return r;
}
constexpr auto kReverse = make_reverse();

using ossl::MdCtxPtr;
using ossl::PkeyPtr;

std::string openssl_error(const char* what) {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  std::string msg = what;
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  return msg;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len)) {
    throw std::runtime_error(openssl_error("HMAC-SHA256 failed"));
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string ed25519_sign(std::string_view private_raw, std::string_view data) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(private_raw.data()),
      private_raw.size()));
  if (!key) throw std::runtime_error(openssl_error("invalid Ed25519 private key"));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t sig_len = 64;
  std::string sig(sig_len, '\0');
  // Ed25519 hashes internally: no digest is passed.
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    throw std::runtime_error(openssl_error("Ed25519 signing failed"));
  }
  sig.resize(sig_len);
  return sig;
}

bool ed25519_verify(std::string_view public_raw, std::string_view data, std::string_view sig) {
  PkeyPtr key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(public_raw.data()),
                                          public_raw.size()));
  if (!key) {
    ERR_clear_error();
    return false;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  ERR_clear_error();
  return ok;
}

std::string join_signed(const nlohmann::json& header, const nlohmann::json& payload) {
  return base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
}

// Claims are NumericDate: seconds since the epoch, possibly fractional.
std::optional<double> numeric_claim(const nlohmann::json& payload, const char* name,
                                    std::string* error) {
  auto it = payload.find(name);
  if (it == payload.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) {
    *error = std::string("malformed token: ") + name + " is not a number";
    return std::nullopt;
  }
  return it->get<double>();
}

// A string member of a JSON object from outside (a JWKS), "" when absent or of another type:
// json::value() would throw on {"kid": 7} instead.
std::string string_member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string base64url_decode(std::string_view text) {
  // Padding is optional: strip up to two trailing '='.
  std::size_t pad = 0;
  while (!text.empty() && text.back() == '=' && pad < 2) {
    text.remove_suffix(1);
    ++pad;
  }
  if (pad > 0 && (text.size() + pad) % 4 != 0) {
    throw std::invalid_argument("invalid base64url: bad padding");
  }
  if (text.size() % 4 == 1) throw std::invalid_argument("invalid base64url: bad length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = kReverse[static_cast<unsigned char>(c)];
    if (v < 0) {
      throw std::invalid_argument(std::string("invalid base64url: unexpected character '") + c +
                                  "'");
    }
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

Decoded decode(std::string_view token) {
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    throw std::invalid_argument("malformed token: expected three dot-separated parts");
  }
  Decoded d;
  auto part = [&](std::string_view seg, const char* name) {
    try {
      auto j = nlohmann::json::parse(base64url_decode(seg));
      if (!j.is_object()) throw std::invalid_argument("not a JSON object");
      return j;
    } catch (const std::exception& e) {
      throw std::invalid_argument(std::string("malformed token: ") + name + ": " + e.what());
    }
  };
  d.header = part(token.substr(0, d1), "header");
  d.payload = part(token.substr(d1 + 1, d2 - d1 - 1), "payload");
  d.signing_input = std::string(token.substr(0, d2));
  try {
    d.signature = base64url_decode(token.substr(d2 + 1));
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("malformed token: signature: ") + e.what());
  }
  return d;
}

std::string sign_hs256(const nlohmann::json& payload, std::string_view secret,
                       const nlohmann::json& extra_header) {
  nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  if (extra_header.is_object()) header.update(extra_header);
  std::string input = join_signed(header, payload);
  return input + "." + base64url_encode(hmac_sha256(secret, input));
}

Ed25519Key Ed25519Key::generate(std::string kid) {
  ossl::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    throw std::runtime_error(openssl_error("Ed25519 key generation failed"));
  }
  PkeyPtr key(raw);
  Ed25519Key k;
  k.kid = std::move(kid);
  std::size_t len = 32;
  k.private_raw.assign(32, '\0');
  k.public_raw.assign(32, '\0');
  if (EVP_PKEY_get_raw_private_key(
          key.get(), reinterpret_cast<unsigned char*>(k.private_raw.data()), &len) != 1 ||
      len != 32) {
    throw std::runtime_error(openssl_error("cannot read Ed25519 private key"));
  }
  len = 32;
  if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(k.public_raw.data()),
                                  &len) != 1 ||
      len != 32) {
    throw std::runtime_error(openssl_error("cannot read Ed25519 public key"));
  }
  return k;
}

nlohmann::json Ed25519Key::public_jwk() const {
  return {{"kty", "OKP"},
          {"crv", "Ed25519"},
          {"x", base64url_encode(public_raw)},
          {"kid", kid},
          {"alg", "EdDSA"}};
}

std::string sign_eddsa(const nlohmann::json& payload, const Ed25519Key& key) {
  nlohmann::json header = {{"alg", "EdDSA"}, {"typ", "JWT"}};
  if (!key.kid.empty()) header["kid"] = key.kid;
  std::string input = join_signed(header, payload);
  return input + "." + base64url_encode(ed25519_sign(key.private_raw, input));
}

Verified verify(std::string_view token, const VerifyOptions& options) {
  Verified v;
  Decoded d;
  try {
    d = decode(token);
  } catch (const std::exception& e) {
    v.error = e.what();
    return v;
  }
  auto alg_it = d.header.find("alg");
  if (alg_it == d.header.end() || !alg_it->is_string()) {
    v.error = "malformed token: header has no alg";
    return v;
  }
  const std::string alg = alg_it->get<std::string>();
  std::string alg_lower = alg;
  std::transform(alg_lower.begin(), alg_lower.end(), alg_lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });

  if (alg == "HS256") {
    if (options.hs256_secret.empty()) {
      v.error = "alg HS256 not accepted";
      return v;
    }
    std::string expected = hmac_sha256(options.hs256_secret, d.signing_input);
    if (d.signature.size() != expected.size() ||
        CRYPTO_memcmp(d.signature.data(), expected.data(), expected.size()) != 0) {
      v.error = "signature mismatch";
      return v;
    }
  } else if (alg == "EdDSA") {
    const nlohmann::json* keys = nullptr;
    if (options.jwks.is_object()) {
      auto it = options.jwks.find("keys");
      if (it != options.jwks.end() && it->is_array() && !it->empty()) keys = &*it;
    }
    if (!keys) {
      v.error = "alg EdDSA not accepted (no JWKS)";
      return v;
    }
    const nlohmann::json* jwk = nullptr;
    auto kid_it = d.header.find("kid");
    if (kid_it != d.header.end() && kid_it->is_string()) {
      for (const auto& k : *keys) {
        if (k.is_object() && string_member(k, "kid") == kid_it->get<std::string>()) {
          jwk = &k;
          break;
        }
      }
      if (!jwk) {
        v.error = "no JWKS key with kid '" + kid_it->get<std::string>() + "'";
        return v;
      }
    } else if (keys->size() == 1) {
      jwk = &(*keys)[0];
    } else {
      v.error = "token has no kid and the JWKS holds several keys";
      return v;
    }
    if (!jwk->is_object() || string_member(*jwk, "kty") != "OKP" ||
        string_member(*jwk, "crv") != "Ed25519" || !jwk->contains("x") ||
        !(*jwk)["x"].is_string()) {
      v.error = "JWKS key is not an Ed25519 (OKP) key";
      return v;
    }
    std::string pub;
    try {
      pub = base64url_decode((*jwk)["x"].get<std::string>());
    } catch (const std::exception& e) {
      v.error = std::string("JWKS key has a bad x: ") + e.what();
      return v;
    }
    if (pub.size() != 32 || !ed25519_verify(pub, d.signing_input, d.signature)) {
      v.error = "signature mismatch";
      return v;
    }
  } else if (alg_lower == "none") {
    // Any spelling of "none" is the unsigned-token attack.
    if (!options.allow_alg_none) {
      v.error = "alg none refused";
      return v;
    }
  } else {
    v.error = "alg '" + alg + "' not accepted";
    return v;
  }

  const auto now_tp = options.now.value_or(std::chrono::system_clock::now());
  const double now = std::chrono::duration<double>(now_tp.time_since_epoch()).count();
  const double leeway = static_cast<double>(options.leeway.count());
  std::string claim_error;
  auto exp = numeric_claim(d.payload, "exp", &claim_error);
  auto nbf = numeric_claim(d.payload, "nbf", &claim_error);
  if (!claim_error.empty()) {
    v.error = claim_error;
    return v;
  }
  if (exp && now >= *exp + leeway) {
    v.error = "token expired";
    return v;
  }
  if (nbf && now + leeway < *nbf) {
    v.error = "token not yet valid (nbf)";
    return v;
  }
  v.ok = true;
  v.payload = std::move(d.payload);
  return v;
}

}  // namespace kgate::jwt
