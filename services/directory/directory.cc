#include "services/directory/directory.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/vocabulary.h"
#include "storage/event_store.h"
#define TOML_EXCEPTIONS 1
#include "toml++/toml.h"

namespace referral::directory {
namespace {

absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

absl::Status ConfigError(absl::string_view source, const toml::source_position& at,
                         absl::string_view what) {
  return MakeError(
      ErrorReason::kConfigInvalid,
      absl::StrCat(source, ":", at.line, ":", at.column, ": ", what),
      absl::StrCat("目录配置有误（", source, " 第 ", at.line, " 行）：", what));
}

bool ValidJurisdiction(absl::string_view j) {
  if (j.empty()) return false;
  for (absl::string_view seg : absl::StrSplit(j, '/')) {
    if (seg.empty()) return false;
    for (char c : seg) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
        return false;
    }
  }
  return true;
}

size_t Depth(absl::string_view j) {
  return static_cast<size_t>(std::count(j.begin(), j.end(), '/')) + 1;
}

absl::Status CheckJurisdiction(absl::string_view j, absl::string_view field) {
  if (ValidJurisdiction(j)) return absl::OkStatus();
  return MakeError(
      ErrorReason::kInvalidField,
      absl::StrCat(field, " \"", j.substr(0, 60),
                   "\" is not an area path: use lower-case segments of a-z, "
                   "0-9 or '-' joined by '/', e.g. \"gansu/tianshui/qinzhou\""),
      "辖区路径格式不正确", {.field = std::string(field)});
}

bool Handles(const v1::Node& n, v1::Matter m, bool first_place) {
  const auto& list = first_place ? n.matters() : n.also_matters();
  return std::find(list.begin(), list.end(), m) != list.end();
}

// Reads one [[node]] table into `node`.
absl::Status ParseNode(const toml::table& t, absl::string_view source,
                       v1::Node* node) {
  static const std::set<std::string, std::less<>> kKeys = {
      "name",    "kind",    "level",   "jurisdiction", "parent",
      "name_zh", "name_en", "hotline", "matters",      "also_matters"};
  for (auto&& [key, value] : t) {
    if (!kKeys.count(key.str())) {
      return ConfigError(source, key.source().begin,
                         absl::StrCat("unknown key \"", Sv(key.str()),
                                      "\"; the keys are name, kind, level, "
                                      "jurisdiction, parent, name_zh, name_en, "
                                      "hotline, matters, also_matters"));
    }
  }
  auto string_key = [&](const char* key, bool required,
                        std::string* out) -> absl::Status {
    const toml::node* v = t.get(key);
    if (v == nullptr) {
      if (!required) return absl::OkStatus();
      return ConfigError(source, t.source().begin,
                         absl::StrCat("this node has no \"", key, "\""));
    }
    if (!v->is_string()) {
      return ConfigError(source, v->source().begin,
                         absl::StrCat("\"", key, "\" must be a string"));
    }
    *out = v->as_string()->get();
    return absl::OkStatus();
  };
  std::string name, kind, level, jurisdiction, parent, zh, en, hotline;
  RETURN_IF_ERROR(string_key("name", true, &name));
  RETURN_IF_ERROR(string_key("kind", true, &kind));
  RETURN_IF_ERROR(string_key("level", true, &level));
  RETURN_IF_ERROR(string_key("jurisdiction", true, &jurisdiction));
  RETURN_IF_ERROR(string_key("parent", false, &parent));
  RETURN_IF_ERROR(string_key("name_zh", true, &zh));
  RETURN_IF_ERROR(string_key("name_en", true, &en));
  RETURN_IF_ERROR(string_key("hotline", false, &hotline));

  auto at = [&](const char* key) { return t.get(key)->source().begin; };
  if (!storage::ValidateNodeName(name, "name").ok()) {
    return ConfigError(source, at("name"),
                       absl::StrCat("name \"", name,
                                    "\" must be 1-128 of a-z, 0-9, '.', '_' "
                                    "or '-', e.g. \"qinzhou.justice\""));
  }
  const auto* kind_term = FindTerm(NodeKinds(), Sv(kind));
  if (kind_term == nullptr) {
    return ConfigError(source, at("kind"),
                       absl::StrCat("kind \"", kind, "\" is not one of ",
                                    KeysOf(NodeKinds())));
  }
  const auto* level_term = FindTerm(NodeLevels(), Sv(level));
  if (level_term == nullptr) {
    return ConfigError(source, at("level"),
                       absl::StrCat("level \"", level, "\" is not one of ",
                                    KeysOf(NodeLevels())));
  }
  if (!ValidJurisdiction(jurisdiction)) {
    return ConfigError(source, at("jurisdiction"),
                       absl::StrCat("jurisdiction \"", jurisdiction,
                                    "\" must be lower-case segments joined by "
                                    "'/', e.g. \"gansu/tianshui/qinzhou\""));
  }
  node->set_name(name);
  node->set_kind(kind_term->value);
  node->set_level(level_term->value);
  node->set_jurisdiction(jurisdiction);
  node->set_parent(parent);
  node->set_display_name_zh(zh);
  node->set_display_name_en(en);
  node->set_hotline(hotline);

  for (const char* key : {"matters", "also_matters"}) {
    const toml::node* v = t.get(key);
    if (v == nullptr) continue;
    const toml::array* list = v->as_array();
    if (list == nullptr) {
      return ConfigError(source, v->source().begin,
                         absl::StrCat("\"", key, "\" must be a list of matters"));
    }
    for (const toml::node& item : *list) {
      const auto* s = item.as_string();
      const auto* term = s ? FindTerm(Matters(), Sv(s->get())) : nullptr;
      if (term == nullptr) {
        return ConfigError(
            source, item.source().begin,
            absl::StrCat("\"", s ? s->get() : std::string("?"),
                         "\" is not a matter; the menu has ", KeysOf(Matters())));
      }
      if (std::string_view(key) == "matters") {
        node->add_matters(term->value);
      } else {
        node->add_also_matters(term->value);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool Covers(absl::string_view jurisdiction, absl::string_view area) {
  if (!absl::StartsWith(area, jurisdiction)) return false;
  return area.size() == jurisdiction.size() || area[jurisdiction.size()] == '/';
}

absl::StatusOr<Directory> Directory::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat(path, ": cannot be read"),
                     absl::StrCat("目录配置文件无法读取：", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return LoadString(text.str(), path);
}

absl::StatusOr<Directory> Directory::LoadString(absl::string_view text,
                                                absl::string_view source) {
  toml::table root;
  try {
    root = toml::parse(std::string_view(text.data(), text.size()),
                       std::string_view(source.data(), source.size()));
  } catch (const toml::parse_error& e) {
    return ConfigError(source, e.source().begin, Sv(e.description()));
  }
  for (auto&& [key, value] : root) {
    if (key.str() != "node") {
      return ConfigError(source, key.source().begin,
                         absl::StrCat("unknown top-level key \"", Sv(key.str()),
                                      "\"; describe each node in a [[node]] "
                                      "table"));
    }
  }
  const toml::array* nodes = root["node"].as_array();
  if (nodes == nullptr || nodes->empty()) {
    return ConfigError(source, toml::source_position{1, 1},
                       "no [[node]] tables: the directory needs at least one");
  }

  Directory d;
  std::map<std::string, toml::source_position> lines;
  for (const toml::node& item : *nodes) {
    const toml::table* t = item.as_table();
    if (t == nullptr) {
      return ConfigError(source, item.source().begin, "node must be a table");
    }
    v1::Node node;
    RETURN_IF_ERROR(ParseNode(*t, source, &node));
    if (d.nodes_.count(node.name())) {
      return ConfigError(source, t->source().begin,
                         absl::StrCat("node \"", node.name(),
                                      "\" is described twice (first at line ",
                                      lines[node.name()].line, ")"));
    }
    lines[node.name()] = t->source().begin;
    d.nodes_.emplace(node.name(), std::move(node));
  }

  // Cross-node rules, checked once every node is known.
  std::map<std::pair<v1::Matter, std::string>, std::string> first_place;
  for (const auto& [name, node] : d.nodes_) {
    const toml::source_position& at = lines[name];
    if (!node.parent().empty()) {
      auto p = d.nodes_.find(node.parent());
      if (p == d.nodes_.end()) {
        return ConfigError(source, at,
                           absl::StrCat("node \"", name, "\" names parent \"",
                                        node.parent(), "\", which is not described"));
      }
      if (p->second.level() >= node.level() ||
          !Covers(p->second.jurisdiction(), node.jurisdiction())) {
        return ConfigError(
            source, at,
            absl::StrCat("node \"", name, "\"'s parent \"", node.parent(),
                         "\" must be a higher level whose jurisdiction covers ",
                         node.jurisdiction()));
      }
    } else if (node.level() != v1::NODE_LEVEL_DISTRICT) {
      return ConfigError(source, at,
                         absl::StrCat("node \"", name,
                                      "\" is a town or village point and needs "
                                      "a parent (its supervising node)"));
    }
    for (int m : node.matters()) {
      auto key = std::make_pair(static_cast<v1::Matter>(m), node.jurisdiction());
      auto [it, inserted] = first_place.emplace(key, name);
      if (!inserted) {
        return ConfigError(
            source, at,
            absl::StrCat("both \"", it->second, "\" and \"", name,
                         "\" are the first place for ",
                         FindTerm(Matters(), key.first)->key, " in ",
                         node.jurisdiction(),
                         ": move one of them to also_matters"));
      }
    }
  }
  return d;
}

absl::StatusOr<v1::GetNodeResponse> Directory::GetNode(
    const v1::GetNodeRequest& request) const {
  RETURN_IF_ERROR(storage::ValidateNodeName(request.name(), "name"));
  auto it = nodes_.find(request.name());
  if (it == nodes_.end()) {
    return MakeError(ErrorReason::kNodeNotFound,
                     absl::StrCat("no node is named \"", request.name(),
                                  "\": ListNodes shows the directory"),
                     "没有该机构节点", {.metadata = {{"name", request.name()}}});
  }
  v1::GetNodeResponse response;
  *response.mutable_node() = it->second;
  return response;
}

absl::StatusOr<v1::ListNodesResponse> Directory::ListNodes(
    const v1::ListNodesRequest& request) const {
  if (!request.jurisdiction().empty()) {
    RETURN_IF_ERROR(CheckJurisdiction(request.jurisdiction(), "jurisdiction"));
  }
  v1::ListNodesResponse response;
  for (const auto& [name, node] : nodes_) {
    if (request.kind() != v1::NODE_KIND_UNSPECIFIED &&
        node.kind() != request.kind()) {
      continue;
    }
    if (!request.jurisdiction().empty() &&
        !Covers(request.jurisdiction(), node.jurisdiction())) {
      continue;
    }
    *response.add_nodes() = node;
  }
  return response;
}

absl::StatusOr<v1::RouteResponse> Directory::Route(
    const v1::RouteRequest& request) const {
  const auto* matter = FindTerm(Matters(), request.matter());
  if (matter == nullptr) {
    return MakeError(ErrorReason::kInvalidField,
                     absl::StrCat("matter is required: one of ", KeysOf(Matters())),
                     "请选择事项", {.field = "matter"});
  }
  RETURN_IF_ERROR(CheckJurisdiction(request.jurisdiction(), "jurisdiction"));

  const v1::Node* best = nullptr;
  std::vector<const v1::Node*> others;
  for (const auto& [name, node] : nodes_) {
    if (!Covers(node.jurisdiction(), request.jurisdiction())) continue;
    if (Handles(node, request.matter(), true)) {
      if (best == nullptr || Depth(node.jurisdiction()) > Depth(best->jurisdiction())) {
        if (best != nullptr) others.push_back(best);
        best = &node;
      } else {
        others.push_back(&node);
      }
    } else if (Handles(node, request.matter(), false)) {
      others.push_back(&node);
    }
  }
  if (best == nullptr) {
    return MakeError(
        ErrorReason::kNoRoute,
        absl::StrCat("no node takes ", matter->en, " in ", request.jurisdiction(),
                     ": check the area, or add the matter to a node's menu"),
        absl::StrCat("该辖区没有受理“", matter->zh, "”的机构"),
        {.metadata = {{"matter", std::string(matter->key)}}});
  }
  std::stable_sort(others.begin(), others.end(),
                   [](const v1::Node* a, const v1::Node* b) {
                     return Depth(a->jurisdiction()) > Depth(b->jurisdiction());
                   });
  v1::RouteResponse response;
  *response.mutable_node() = *best;
  for (const v1::Node* n : others) *response.add_alternatives() = *n;
  const auto* kind = FindTerm(NodeKinds(), best->kind());
  const auto* level = FindTerm(NodeLevels(), best->level());
  response.set_reason(absl::StrCat(
      best->display_name_en(), " (", kind->en, ", ", level->en,
      ") is the first place for ", matter->en, " in ", best->jurisdiction(),
      best->jurisdiction() == request.jurisdiction()
          ? ""
          : absl::StrCat(", the nearest area on the menu that covers ",
                         request.jurisdiction())));
  response.set_reason_zh(absl::StrCat(best->display_name_zh(), "是",
                                      best->jurisdiction(), "受理“", matter->zh,
                                      "”的首办机构"));
  return response;
}

}  // namespace referral::directory
