#include "services/referral/access.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "storage/event_store.h"
#include "toml++/toml.h"

namespace referral::broker {
namespace {

absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

absl::Status ConfigError(absl::string_view source, const toml::source_position& at,
                         absl::string_view what) {
  return MakeError(
      ErrorReason::kConfigInvalid,
      absl::StrCat(source, ":", at.line, ":", at.column, ": ", what),
      absl::StrCat("访问权限配置有误（", source, " 第 ", at.line, " 行）：", what));
}

// Both lists are checked the same way, wherever they come from.
absl::Status CheckBoth(const std::set<std::string, std::less<>>& investigators,
                       const std::set<std::string, std::less<>>& auditors,
                       absl::string_view source, toml::source_position at) {
  for (const std::string& id : auditors) {
    if (investigators.count(id)) {
      return ConfigError(source, at,
                         absl::StrCat(id, " is both an investigator and an auditor: "
                                          "nobody may audit its own traces; keep it "
                                          "in one list"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AccessList> AccessList::FromToml(absl::string_view text,
                                                absl::string_view source) {
  toml::table root;
  try {
    root = toml::parse(std::string_view(text.data(), text.size()),
                       std::string_view(source.data(), source.size()));
  } catch (const toml::parse_error& e) {
    return ConfigError(source, e.source().begin, Sv(e.description()));
  }
  AccessList out;
  toml::source_position auditors_at{1, 1};
  for (auto&& [key, value] : root) {
    const std::string_view k = key.str();
    if (k != "investigators" && k != "auditors") {
      return ConfigError(source, key.source().begin,
                         absl::StrCat("unknown key \"", Sv(k),
                                      "\"; the keys are investigators and auditors"));
    }
    const toml::array* list = value.as_array();
    if (list == nullptr) {
      return ConfigError(source, value.source().begin,
                         absl::StrCat(Sv(k), " must be a list of identities like "
                                             "[\"qinzhou.procuratorate\"]"));
    }
    if (k == "auditors") auditors_at = value.source().begin;
    auto& into = k == "investigators" ? out.investigators_ : out.auditors_;
    for (const toml::node& n : *list) {
      std::optional<std::string> id = n.value<std::string>();
      if (!id || !storage::ValidateNodeName(*id, Sv(k)).ok()) {
        return ConfigError(
            source, n.source().begin,
            absl::StrCat("each of ", Sv(k),
                         " must be an identity as its certificate names it: 1-128 of "
                         "a-z, 0-9, '.', '_', '-', starting with a letter or digit"));
      }
      into.insert(*id);
    }
  }
  if (absl::Status s = CheckBoth(out.investigators_, out.auditors_, source, auditors_at);
      !s.ok()) {
    return s;
  }
  return out;
}

absl::StatusOr<AccessList> AccessList::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat("cannot read access file ", path,
                                  ": check the --access path (e.g. config/access.toml)"),
                     absl::StrCat("无法读取访问权限配置文件 ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return FromToml(text.str(), path);
}

absl::StatusOr<AccessList> AccessList::Of(std::vector<std::string> investigators,
                                          std::vector<std::string> auditors) {
  AccessList out;
  for (auto* list : {&investigators, &auditors}) {
    for (const std::string& id : *list) {
      if (absl::Status s = storage::ValidateNodeName(id, "identity"); !s.ok()) return s;
      (list == &investigators ? out.investigators_ : out.auditors_).insert(id);
    }
  }
  if (absl::Status s = CheckBoth(out.investigators_, out.auditors_, "access list",
                                 toml::source_position{1, 1});
      !s.ok()) {
    return s;
  }
  return out;
}

}  // namespace referral::broker
