// refctl's saved context: who you act as and where the services are, so that
// a desk officer need not repeat --node and addresses on every command.
//
//   refctl context set --node qinzhou.justice --pki /srv/pki
//   refctl context show
//
// Stored as JSON in $REFCTL_CONTEXT, else $XDG_CONFIG_HOME/refctl/context.json,
// else ~/.config/refctl/context.json:
//
//   {"node": "qinzhou.justice", "referral": "127.0.0.1:50103",
//    "pki": "/srv/pki", "plaintext": false}
//
// Precedence: a flag, then the environment (REFCTL_NODE, REFCTL_REFERRAL,
// REFCTL_CASELOG, REFCTL_DIRECTORY, REFCTL_PKI), then the context, then the
// built-in default.

#ifndef REFERRAL_CLIENTS_REFCTL_CONTEXT_H_
#define REFERRAL_CLIENTS_REFCTL_CONTEXT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace referral::refctl {

struct Context {
  std::optional<std::string> node;
  std::optional<std::string> referral;
  std::optional<std::string> caselog;
  std::optional<std::string> directory;
  std::optional<std::string> pki;
  std::optional<bool> plaintext;

  friend bool operator==(const Context&, const Context&) = default;
};

// Where the context lives (see above).
std::string ContextPath();

// The context at `path`; an empty one when there is no file. Fails on a file
// that is not a JSON object of the fields above.
absl::StatusOr<Context> LoadContext(const std::string& path);

// Writes `context` to `path` (atomically: a temporary file renamed over it),
// creating the directory. Unset fields are left out.
absl::Status SaveContext(const std::string& path, const Context& context);

// The JSON SaveContext writes.
std::string ContextJson(const Context& context);

// `overlay`'s set fields over `base`.
Context Merge(Context base, const Context& overlay);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_CONTEXT_H_
