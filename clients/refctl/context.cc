#include "clients/refctl/context.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace referral::refctl {
namespace {

namespace fs = std::filesystem;

struct Field {
  const char* name;
  std::optional<std::string> Context::*member;
};
constexpr Field kStringFields[] = {
    {"node", &Context::node},           {"referral", &Context::referral},
    {"caselog", &Context::caselog},     {"directory", &Context::directory},
    {"pki", &Context::pki},
};

}  // namespace

std::string ContextPath() {
  if (const char* p = std::getenv("REFCTL_CONTEXT"); p != nullptr && *p != '\0') {
    return p;
  }
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0') {
    return absl::StrCat(x, "/refctl/context.json");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : ".", "/.config/refctl/context.json");
}

absl::StatusOr<Context> LoadContext(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return Context{};
    return absl::PermissionDeniedError(absl::StrCat("cannot read ", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  google::protobuf::Struct json;
  auto parsed = google::protobuf::util::JsonStringToMessage(buffer.str(), &json);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a JSON object (", parsed.ToString(),
                     "): fix it or remove it and run refctl context set again"));
  }
  Context c;
  for (const auto& [key, value] : json.fields()) {
    bool known = false;
    for (const Field& f : kStringFields) {
      if (key != f.name) continue;
      known = true;
      if (value.kind_case() != google::protobuf::Value::kStringValue) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": \"", key, "\" must be a string"));
      }
      if (!value.string_value().empty()) c.*f.member = value.string_value();
    }
    if (key == "plaintext") {
      known = true;
      if (value.kind_case() != google::protobuf::Value::kBoolValue) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": \"plaintext\" must be true or false"));
      }
      c.plaintext = value.bool_value();
    }
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": unknown field \"", key,
          "\" (known: node, referral, caselog, directory, pki, plaintext)"));
    }
  }
  return c;
}

std::string ContextJson(const Context& context) {
  google::protobuf::Struct json;
  for (const Field& f : kStringFields) {
    if ((context.*f.member).has_value()) {
      (*json.mutable_fields())[f.name].set_string_value(*(context.*f.member));
    }
  }
  if (context.plaintext.has_value()) {
    (*json.mutable_fields())["plaintext"].set_bool_value(*context.plaintext);
  }
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(json, &out, o);
  return out;
}

absl::Status SaveContext(const std::string& path, const Context& context) {
  std::error_code ec;
  fs::path target(path);
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot create ", target.parent_path().string(), ": ", ec.message()));
    }
  }
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << ContextJson(context);
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::string why = ec.message();
    fs::remove(tmp, ec);
    return absl::PermissionDeniedError(
        absl::StrCat("cannot replace ", path, ": ", why));
  }
  return absl::OkStatus();
}

Context Merge(Context base, const Context& overlay) {
  for (const Field& f : kStringFields) {
    if ((overlay.*f.member).has_value()) base.*f.member = overlay.*f.member;
  }
  if (overlay.plaintext.has_value()) base.plaintext = overlay.plaintext;
  return base;
}

}  // namespace referral::refctl
