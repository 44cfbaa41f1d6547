#include "services/gateway/console.h"

#include <algorithm>
#include <array>
#include <exception>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/trace_svg.h"
#include "clients/refctl/units.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/timestamps.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "services/gateway/dashboard.h"

namespace referral::gateway {
namespace {

using json = nlohmann::json;
using C = absl::StatusCode;

constexpr std::array<HttpErrorRow, 9> kHttpErrors = {{
    {C::kInvalidArgument, 400, "请求内容有误，请按提示修改后重试。"},
    {C::kNotFound, 404, "找不到要查看的内容，请检查编号。"},
    {C::kPermissionDenied, 403, "当前机构无权查看或办理此事项。"},
    {C::kUnauthenticated, 401, "请先在页面上方选择您所代表的机构。"},
    {C::kFailedPrecondition, 409, "当前状态不允许此操作，请刷新后查看最新状态。"},
    {C::kAlreadyExists, 409, "该请求编号已用于另一项操作，请刷新后重试。"},
    {C::kAborted, 409, "案件刚被他人修改，请刷新后重试。"},
    {C::kUnavailable, 503, "服务暂时无法访问，请稍后重试；如一直如此，请确认服务已启动（./dev up）。"},
    {C::kDeadlineExceeded, 504, "服务响应超时，请稍后重试。"},
}};
constexpr int kOtherHttpStatus = 500;
constexpr absl::string_view kOtherZh = "服务出现内部错误，请稍后重试或联系管理员。";

// The referral states a node's inbox lists: those waiting on the addressee
// to claim or take the referral.
constexpr std::array<v1::ReferralState, 2> kInboxStates = {
    v1::REFERRAL_STATE_REQUESTED, v1::REFERRAL_STATE_RECEIVED};
// Large enough for one district's year; the broker reads the whole feed
// either way.
constexpr int kInboxPageSize = 1000;
constexpr int kDashboardPageSize = 100000;

constexpr absl::string_view kApiPrefix = "/api/v1/";

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Proto3 JSON with the proto's own field names, every field printed (a
// count of 0 is "0", not missing), enums by name.
std::string ProtoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) {
    return "{}";
  }
  return out;
}

json ProtoValue(const google::protobuf::Message& message) {
  return json::parse(ProtoJson(message));
}

ApiResponse JsonResponse(const json& body) { return {200, "application/json; charset=utf-8", Dump(body)}; }
ApiResponse ProtoResponse(const google::protobuf::Message& m) {
  return {200, "application/json; charset=utf-8", ProtoJson(m)};
}

absl::Status InvalidField(std::string field, std::string message, std::string zh) {
  return MakeError(ErrorReason::kInvalidField, std::move(message), std::move(zh),
                   {.field = std::move(field)});
}

absl::Status NoSuchRoute(const ApiRequest& request) {
  return absl::NotFoundError(absl::StrCat(
      "no route ", request.method, " ", request.path,
      "; see services/gateway/console.h for the routes"));
}

// Fills `message` from query parameters, by field name; `path_fields` come
// from the path and may not be given again.
absl::Status FillFromQuery(const std::map<std::string, std::string>& query,
                           google::protobuf::Message* message,
                           std::initializer_list<absl::string_view> path_fields = {}) {
  const google::protobuf::Descriptor* d = message->GetDescriptor();
  std::vector<std::string> accepted;
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->is_repeated() || f->message_type() != nullptr) continue;
    if (std::find(path_fields.begin(), path_fields.end(), f->name()) != path_fields.end()) continue;
    accepted.push_back(f->name());
  }
  json fields = json::object();
  for (const auto& [name, value] : query) {
    const auto* f = d->FindFieldByName(name);
    if (f == nullptr || std::find(accepted.begin(), accepted.end(), name) == accepted.end()) {
      return InvalidField(
          name,
          absl::StrCat("this request takes no parameter \"", name, "\"; it takes: ",
                       accepted.empty() ? "none" : absl::StrJoin(accepted, ", ")),
          absl::StrCat("不支持参数“", name, "”。可用参数：",
                       accepted.empty() ? "无" : absl::StrJoin(accepted, "、")));
    }
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_BOOL) {
      if (value == "true" || value == "1") {
        fields[name] = true;
      } else if (value == "false" || value == "0") {
        fields[name] = false;
      } else {
        return InvalidField(name, absl::StrCat(name, " is true or false, not \"", value, "\""),
                            absl::StrCat("参数“", name, "”应为 true 或 false。"));
      }
    } else {
      // Proto3 JSON takes numbers and enum names as strings.
      fields[name] = value;
    }
  }
  google::protobuf::util::JsonParseOptions options;
  auto parsed = google::protobuf::util::JsonStringToMessage(Dump(fields), message, options);
  if (!parsed.ok()) {
    return InvalidField("", absl::StrCat("bad query parameter: ", parsed.message().as_string()),
                        "查询参数的值有误，请检查后重试。");
  }
  return absl::OkStatus();
}

absl::Status NoQuery(const ApiRequest& request) {
  if (request.query.empty()) return absl::OkStatus();
  const std::string& name = request.query.begin()->first;
  return InvalidField(name, absl::StrCat(request.path, " takes no query parameters"),
                      absl::StrCat("此处不支持参数“", name, "”。"));
}

// A POST body: the request in proto3 JSON (empty = {}).
absl::Status ParseBody(absl::string_view body, google::protobuf::Message* message) {
  if (absl::StripAsciiWhitespace(body).empty()) return absl::OkStatus();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(std::string(body), message, options);
  if (!parsed.ok()) {
    return InvalidField(
        "", absl::StrCat("the body is not a ", message->GetDescriptor()->name(),
                         " in proto3 JSON: ", parsed.message().as_string()),
        "请求内容不是有效的 JSON 请求，请检查后重试。");
  }
  return absl::OkStatus();
}

// "2026-03-01" -> that day; nothing else (no times, no other spellings).
std::optional<absl::CivilDay> ParseDay(absl::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(s[i])) return std::nullopt;
  }
  absl::CivilDay day;
  if (!absl::ParseCivilTime(s, &day)) return std::nullopt;
  // A day that does not exist (02-30) is a typo, never another day: the
  // round trip refuses anything the parser would have normalised.
  if (absl::FormatCivilTime(day) != s) return std::nullopt;
  return day;
}

// A search criterion as a person picks it: a vocabulary key or enum name.
template <typename Enum>
absl::StatusOr<Enum> SearchTerm(const json& value, absl::Span<const Term<Enum>> table,
                                absl::string_view field, absl::string_view enum_prefix,
                                absl::string_view zh_what) {
  if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) {
    return Enum{};
  }
  const Term<Enum>* term =
      value.is_string() ? refctl::ParseTerm(table, value.get<std::string>(), enum_prefix)
                        : nullptr;
  if (term == nullptr) {
    return InvalidField(std::string(field),
                        absl::StrCat(field, " is one of ", KeysOf(table),
                                     " (or its enum name), or empty for any"),
                        absl::StrCat(zh_what, "无效，请从列表中选择。"));
  }
  return term->value;
}

// opened_from / opened_to: a calendar day in Asia/Shanghai; `to` is included
// whole, so it becomes the next day's first moment.
absl::StatusOr<std::optional<google::protobuf::Timestamp>> SearchDay(
    const json& value, absl::string_view field, bool end, absl::string_view zh_what) {
  if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) {
    return std::nullopt;
  }
  std::optional<absl::CivilDay> day;
  if (value.is_string()) day = ParseDay(value.get<std::string>());
  std::optional<google::protobuf::Timestamp> ts;
  if (day.has_value()) {
    ts = ProtoTime(absl::FromCivil(end ? *day + 1 : *day, refctl::Shanghai()));
  }
  if (!ts.has_value() || !IsValidTimestamp(*ts)) {
    return InvalidField(
        std::string(field),
        absl::StrCat(field, " is a calendar day in Asia/Shanghai written YYYY-MM-DD, e.g. ",
                     "2026-03-01", end ? " (that day included)" : ""),
        absl::StrCat(zh_what, "应为日期，格式如 2026-03-01，请重新选择。"));
  }
  return ts;
}

std::string RandomRequestId() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("console-%016x", absl::Uniform<uint64_t>(gen));
}

template <typename Enum>
json TermsByEnumName(absl::Span<const Term<Enum>> table) {
  json out = json::object();
  const google::protobuf::EnumDescriptor* d = google::protobuf::GetEnumDescriptor<Enum>();
  for (const Term<Enum>& t : table) {
    const auto* v = d->FindValueByNumber(t.value);
    std::string name = v != nullptr ? v->name() : std::to_string(t.value);
    out[name] = {{"key", std::string(t.key)}, {"en", std::string(t.en)}, {"zh", std::string(t.zh)}};
  }
  return out;
}

ApiResponse Vocabulary() {
  json events = json::object();
  for (const auto& t : EventKinds()) {
    events[std::string(t.key)] = {{"en", std::string(t.en)}, {"zh", std::string(t.zh)}};
  }
  return JsonResponse({
      {"referral_states", TermsByEnumName(ReferralStates())},
      {"priorities", TermsByEnumName(Priorities())},
      {"matters", TermsByEnumName(Matters())},
      {"outcomes", TermsByEnumName(Outcomes())},
      {"intake_channels", TermsByEnumName(IntakeChannels())},
      {"party_roles", TermsByEnumName(PartyRoles())},
      {"node_kinds", TermsByEnumName(NodeKinds())},
      {"meeting_kinds", TermsByEnumName(MeetingKinds())},
      {"meeting_states", TermsByEnumName(MeetingStates())},
      {"invitation_responses", TermsByEnumName(InvitationResponses())},
      {"events", events},
  });
}

std::string StateName(v1::ReferralState s) { return v1::ReferralState_Name(s); }

json StatesJson(const std::map<v1::ReferralState, int>& by_state) {
  json out = json::object();
  for (const auto& [state, n] : by_state) out[StateName(state)] = n;
  return out;
}

json ErrorValue(const absl::Status& status) {
  return json::parse(ErrorJson(status))["error"];
}

}  // namespace

absl::StatusOr<v1::SearchCasesRequest> CaseSearchFromJson(absl::string_view body) {
  v1::SearchCasesRequest out;
  if (absl::StripAsciiWhitespace(body).empty()) return out;
  json fields = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!fields.is_object()) {
    return InvalidField("", "the body is not a JSON object of search criteria",
                        "请求内容不是有效的 JSON 请求，请检查后重试。");
  }
  auto take = [&fields](const char* name) {
    json v;
    if (auto it = fields.find(name); it != fields.end()) {
      v = std::move(*it);
      fields.erase(it);
    }
    return v;
  };
  // The days' proto3 JSON names would parse as Timestamps, with another
  // meaning for the end of the range: one spelling only.
  for (const char* camel : {"openedFrom", "openedTo"}) {
    if (fields.contains(camel)) {
      return InvalidField(camel,
                          absl::StrCat("write opened_from and opened_to (calendar days), not ",
                                       camel),
                          "请使用 opened_from 和 opened_to 填写日期。");
    }
  }
  const json matter = take("matter"), state = take("state");
  const json from = take("opened_from"), to = take("opened_to");
  // The rest is the request's own proto3 JSON; the four fields above go in
  // after, as they were given for people.
  // Criteria may hold personal data (an ID number): protobuf's own message
  // repeats the offending value, so only the field names go back.
  if (absl::Status parsed = ParseBody(Dump(fields), &out); !parsed.ok()) {
    std::vector<std::string> given;
    for (const auto& [name, value] : fields.items()) given.push_back(name);
    return InvalidField("",
                        absl::StrCat("the body is not a SearchCasesRequest in proto3 JSON "
                                     "(criteria given: ",
                                     absl::StrJoin(given, ", "),
                                     "): each criterion is a string in quotes, page_size a "
                                     "number, and only the request's own fields are known"),
                        "请求内容不是有效的 JSON 请求，请检查后重试。");
  }
  ASSIGN_OR_RETURN(v1::Matter m, SearchTerm(matter, Matters(), "matter", "MATTER_", "事项"));
  ASSIGN_OR_RETURN(v1::ReferralState st,
                   SearchTerm(state, ReferralStates(), "state", "REFERRAL_STATE_", "转介状态"));
  out.set_matter(m);
  out.set_state(st);
  ASSIGN_OR_RETURN(auto from_ts, SearchDay(from, "opened_from", false, "开始日期"));
  ASSIGN_OR_RETURN(auto to_ts, SearchDay(to, "opened_to", true, "结束日期"));
  if (from_ts.has_value()) *out.mutable_opened_from() = *from_ts;
  if (to_ts.has_value()) *out.mutable_opened_to() = *to_ts;
  return out;
}

absl::Span<const HttpErrorRow> HttpErrorTable() { return kHttpErrors; }

int HttpStatusOf(absl::StatusCode code) {
  for (const HttpErrorRow& row : kHttpErrors) {
    if (row.code == code) return row.http_status;
  }
  return kOtherHttpStatus;
}

std::string ErrorJson(const absl::Status& status) {
  ErrorView view = ViewError(status);
  absl::string_view zh = kOtherZh;
  for (const HttpErrorRow& row : kHttpErrors) {
    if (row.code == status.code()) zh = row.zh;
  }
  const std::string code = absl::StatusCodeToString(status.code());
  json error = {
      {"code", code},
      {"reason", view.reason.empty() ? code : view.reason},
      {"message", std::string(status.message())},
      {"message_zh", view.zh_message.empty() ? std::string(zh) : view.zh_message},
  };
  if (!view.field.empty()) error["field"] = view.field;
  if (!view.metadata.empty()) error["metadata"] = view.metadata;
  return Dump({{"error", error}});
}

Console::Console(ConsoleOptions options, ConsolePorts ports)
    : options_(std::move(options)), ports_(ports) {
  if (!options_.new_request_id) options_.new_request_id = RandomRequestId;
}

bool Console::Serves(absl::string_view node) const {
  return std::find(options_.nodes.begin(), options_.nodes.end(), node) !=
         options_.nodes.end();
}

absl::Status Console::CheckNode(absl::string_view node) const {
  if (node.empty()) {
    return MakeError(
        ErrorReason::kUnauthenticated,
        "name the node to act as in the X-Referral-Node header",
        "请先在页面上方选择您所代表的机构。");
  }
  if (!Serves(node)) {
    return MakeError(
        ErrorReason::kNodeNotServed,
        absl::StrCat("this console does not act as ", node, "; it acts as: ",
                     absl::StrJoin(options_.nodes, ", "),
                     " (start the gateway with --nodes, or put the node's certificate in --pki)"),
        absl::StrCat("本控制台不能代表“", node, "”办理。可选机构：",
                     absl::StrJoin(options_.nodes, "、")),
        {.metadata = {{"node", std::string(node)}}});
  }
  return absl::OkStatus();
}

ApiResponse Console::Handle(const ApiRequest& request) {
  absl::StatusOr<ApiResponse> response;
  try {
    response = Route(request);
  } catch (const std::exception& e) {
    response = absl::InternalError(absl::StrCat("gateway: ", e.what()));
  }
  if (response.ok()) return *std::move(response);
  return {HttpStatusOf(response.status().code()), "application/json; charset=utf-8",
          ErrorJson(response.status())};
}

absl::StatusOr<ApiResponse> Console::Route(const ApiRequest& request) {
  if (!absl::StartsWith(request.path, kApiPrefix)) return NoSuchRoute(request);
  const absl::string_view rest = absl::string_view(request.path).substr(kApiPrefix.size());
  const bool get = request.method == "GET";

  if (rest == "nodes" && get) {
    RETURN_IF_ERROR(NoQuery(request));
    return Nodes();
  }
  if (rest == "vocabulary" && get) {
    RETURN_IF_ERROR(NoQuery(request));
    return Vocabulary();
  }

  RETURN_IF_ERROR(CheckNode(request.node));
  const std::string& node = request.node;
  if (rest == "cases" && get) {
    v1::ListCasesRequest r;
    RETURN_IF_ERROR(FillFromQuery(request.query, &r));
    ASSIGN_OR_RETURN(v1::ListCasesResponse out, ports_.referral->ListCases(node, r));
    return ProtoResponse(out);
  }
  if (rest == "cases:search" && request.method == "POST") return SearchCases(node, request);
  if (absl::StartsWith(rest, "cases/")) {
    return CaseRoute(node, rest.substr(6), request);
  }
  if (rest == "referrals" && get) {
    v1::ListReferralsRequest r;
    RETURN_IF_ERROR(FillFromQuery(request.query, &r));
    ASSIGN_OR_RETURN(v1::ListReferralsResponse out, ports_.referral->ListReferrals(node, r));
    return ProtoResponse(out);
  }
  if (absl::StartsWith(rest, "referrals/") && request.method == "POST") {
    return ReferralCommand(node, rest.substr(10), request);
  }
  if (rest == "inbox" && get) return Inbox(node, request);
  if (rest == "dashboard" && get) return Dashboard(node, request);
  return NoSuchRoute(request);
}

std::vector<v1::Node> Console::DirectoryNodes(absl::string_view as_node) {
  {
    absl::MutexLock lock(&mu_);
    if (directory_nodes_.has_value()) return *directory_nodes_;
  }
  if (ports_.directory == nullptr) return {};
  absl::StatusOr<v1::ListNodesResponse> listed =
      ports_.directory->ListNodes(as_node, v1::ListNodesRequest());
  if (!listed.ok()) return {};
  std::vector<v1::Node> nodes(listed->nodes().begin(), listed->nodes().end());
  absl::MutexLock lock(&mu_);
  directory_nodes_ = nodes;
  return nodes;
}

ApiResponse Console::Nodes() {
  std::vector<v1::Node> known =
      options_.nodes.empty() ? std::vector<v1::Node>() : DirectoryNodes(options_.nodes.front());
  json nodes = json::array();
  for (const std::string& name : options_.nodes) {
    v1::Node node;
    node.set_name(name);
    for (const v1::Node& k : known) {
      if (k.name() == name) node = k;
    }
    nodes.push_back({{"name", node.name()},
                     {"kind", v1::NodeKind_Name(node.kind())},
                     {"display_name_zh", node.display_name_zh()},
                     {"display_name_en", node.display_name_en()},
                     {"parent", node.parent()}});
  }
  return JsonResponse({{"nodes", nodes}});
}

absl::StatusOr<ApiResponse> Console::Inbox(absl::string_view node,
                                           const ApiRequest& request) {
  RETURN_IF_ERROR(NoQuery(request));
  ASSIGN_OR_RETURN(v1::GetBacklogResponse backlog,
                   ports_.referral->GetBacklog(node, v1::GetBacklogRequest()));
  std::vector<v1::Referral> items;
  for (v1::ReferralState state : kInboxStates) {
    v1::ListReferralsRequest r;
    r.set_role(v1::REFERRAL_ROLE_RECEIVED);
    r.set_state(state);
    r.set_page_size(kInboxPageSize);
    ASSIGN_OR_RETURN(v1::ListReferralsResponse listed, ports_.referral->ListReferrals(node, r));
    for (const v1::Referral& ref : listed.referrals()) items.push_back(ref);
  }
  // Oldest first: the desk works the queue in the order it was sent.
  std::sort(items.begin(), items.end(), [](const v1::Referral& a, const v1::Referral& b) {
    auto key = [](const v1::Referral& r) {
      return std::make_tuple(r.create_time().seconds(), r.create_time().nanos(),
                             r.referral_id());
    };
    return key(a) < key(b);
  });
  json states = json::array();
  for (v1::ReferralState s : kInboxStates) states.push_back(StateName(s));
  json out = {{"node", std::string(node)},
              {"backlog", ProtoValue(backlog)},
              {"item_states", states},
              {"items", json::array()}};
  for (const v1::Referral& r : items) out["items"].push_back(ProtoValue(r));
  return JsonResponse(out);
}

absl::StatusOr<ApiResponse> Console::Dashboard(absl::string_view node,
                                               const ApiRequest& request) {
  RETURN_IF_ERROR(NoQuery(request));
  DashboardInput input;
  input.node = std::string(node);
  v1::ListReferralsRequest list;
  list.set_page_size(kDashboardPageSize);
  ASSIGN_OR_RETURN(v1::ListReferralsResponse listed, ports_.referral->ListReferrals(node, list));
  input.referrals.assign(listed.referrals().begin(), listed.referrals().end());
  for (const std::string& case_id : AcceptTimeCases(node, input.referrals)) {
    v1::TraceCaseRequest trace;
    trace.set_case_id(case_id);
    ASSIGN_OR_RETURN(v1::TraceCaseResponse events, ports_.referral->TraceCase(node, trace));
    for (v1::Event& e : *events.mutable_events()) input.events.push_back(std::move(e));
  }
  absl::Status overdue_error;
  if (ports_.deadlines == nullptr) {
    overdue_error = MakeError(ErrorReason::kUnavailable,
                              "the gateway was started without --deadlines",
                              "未连接时限服务，无法统计超期数。");
  } else {
    v1::ListDeadlinesRequest r;
    r.set_overdue_only(true);
    absl::StatusOr<v1::ListDeadlinesResponse> deadlines = ports_.deadlines->ListDeadlines(node, r);
    if (deadlines.ok()) {
      input.overdue_deadlines.emplace(deadlines->deadlines().begin(),
                                      deadlines->deadlines().end());
    } else {
      overdue_error = deadlines.status();
    }
  }

  const DashboardStats stats = ComputeDashboard(input);
  json out = {
      {"node", stats.node},
      {"referrals_in", stats.referrals_in},
      {"referrals_out", stats.referrals_out},
      {"in_by_state", StatesJson(stats.in_by_state)},
      {"out_by_state", StatesJson(stats.out_by_state)},
      {"accepted_in", stats.accepted_in},
      {"median_seconds_to_accept",
       stats.median_time_to_accept
           ? json(absl::ToInt64Seconds(*stats.median_time_to_accept))
           : json(nullptr)},
      {"overdue", stats.overdue ? json(*stats.overdue) : json(nullptr)},
      {"escalated", stats.escalated ? json(*stats.escalated) : json(nullptr)},
  };
  if (!overdue_error.ok()) out["overdue_error"] = ErrorValue(overdue_error);
  return JsonResponse(out);
}

absl::StatusOr<ApiResponse> Console::SearchCases(absl::string_view node,
                                                 const ApiRequest& request) {
  if (!request.query.empty()) {
    const std::string& name = request.query.begin()->first;
    return InvalidField(
        name,
        absl::StrCat("cases:search takes its criteria in the POST body (\"", name,
                     "\" too), never in the URL: web servers log URLs and browsers keep "
                     "them, and the criteria may hold a worker's ID number"),
        "搜索条件请放在请求内容中，不要放在网址里：网址会留在日志和浏览记录中，可能泄露身份证号码。");
  }
  ASSIGN_OR_RETURN(v1::SearchCasesRequest r, CaseSearchFromJson(request.body));
  ASSIGN_OR_RETURN(v1::SearchCasesResponse out, ports_.referral->SearchCases(node, r));
  return ProtoResponse(out);
}

absl::StatusOr<ApiResponse> Console::CaseRoute(absl::string_view node,
                                               absl::string_view rest,
                                               const ApiRequest& request) {
  if (request.method != "GET") return NoSuchRoute(request);
  std::pair<std::string, std::string> parts =
      absl::StrSplit(rest, absl::MaxSplits('/', 1));
  const std::string& case_id = parts.first;
  const std::string& what = parts.second;
  if (case_id.empty()) {
    return InvalidField("case_id", "the path names no case: /api/v1/cases/{case}",
                        "请求地址中缺少案件编号。");
  }
  if (what.empty()) {
    RETURN_IF_ERROR(NoQuery(request));
    v1::GetCaseRequest r;
    r.set_case_id(case_id);
    ASSIGN_OR_RETURN(v1::GetCaseResponse out, ports_.referral->GetCase(node, r));
    return ProtoResponse(out);
  }
  if (what == "trace" || what == "timeline.svg") {
    RETURN_IF_ERROR(NoQuery(request));
    v1::TraceCaseRequest r;
    r.set_case_id(case_id);
    ASSIGN_OR_RETURN(v1::TraceCaseResponse trace, ports_.referral->TraceCase(node, r));
    if (what == "timeline.svg") {
      refctl::TraceSvgOptions options;
      options.case_id = case_id;
      for (const v1::Node& n : DirectoryNodes(node)) {
        options.nodes[n.name()] = refctl::NodeInfo{n.kind(), n.display_name_zh()};
      }
      std::vector<v1::Event> events(trace.events().begin(), trace.events().end());
      return ApiResponse{200, "image/svg+xml; charset=utf-8",
                         refctl::TraceSvg(events, options)};
    }
    json rows = json::array();
    for (const refctl::TimelineRow& row : refctl::Timeline(trace.events())) {
      rows.push_back({{"seq", row.seq},
                      {"time", row.time},
                      {"gap", row.gap},
                      {"node", row.node},
                      {"event_zh", row.event_zh},
                      {"event_type", row.event_type},
                      {"summary", row.summary}});
    }
    json out = ProtoValue(trace);
    out["case_id"] = case_id;
    out["timeline"] = rows;
    return JsonResponse(out);
  }
  if (what == "meetings") {
    if (ports_.mediation == nullptr) {
      return MakeError(ErrorReason::kUnavailable,
                       "the gateway was started without --mediation",
                       "未连接调解服务，暂时无法查看会议。");
    }
    v1::ListMeetingsRequest r;
    RETURN_IF_ERROR(FillFromQuery(request.query, &r, {"case_id", "node"}));
    r.set_case_id(case_id);
    ASSIGN_OR_RETURN(v1::ListMeetingsResponse out, ports_.mediation->ListMeetings(node, r));
    return ProtoResponse(out);
  }
  return NoSuchRoute(request);
}

absl::StatusOr<ApiResponse> Console::ReferralCommand(absl::string_view node,
                                                     absl::string_view rest,
                                                     const ApiRequest& request) {
  RETURN_IF_ERROR(NoQuery(request));
  const size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) return NoSuchRoute(request);
  const std::string referral_id(rest.substr(0, colon));
  const absl::string_view verb = rest.substr(colon + 1);

  // The path names the referral; a body may repeat it, not contradict it.
  auto fill = [&](auto* r) -> absl::Status {
    RETURN_IF_ERROR(ParseBody(request.body, r));
    if (!r->referral_id().empty() && r->referral_id() != referral_id) {
      return InvalidField(
          "referral_id",
          absl::StrCat("the body names referral ", r->referral_id(), " but the path ",
                       referral_id),
          "请求内容中的转介编号与地址不一致。");
    }
    r->set_referral_id(referral_id);
    if (r->request_id().empty()) r->set_request_id(options_.new_request_id());
    return absl::OkStatus();
  };
  if (verb == "receive") {
    v1::ReceiveReferralRequest r;
    RETURN_IF_ERROR(fill(&r));
    ASSIGN_OR_RETURN(v1::ReceiveReferralResponse out, ports_.referral->ReceiveReferral(node, r));
    return ProtoResponse(out);
  }
  if (verb == "accept") {
    v1::AcceptReferralRequest r;
    RETURN_IF_ERROR(fill(&r));
    ASSIGN_OR_RETURN(v1::AcceptReferralResponse out, ports_.referral->AcceptReferral(node, r));
    return ProtoResponse(out);
  }
  return NoSuchRoute(request);
}

// ------------------------------------------------------------ loopback rules

bool IsLoopbackAddress(absl::string_view host) {
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "::1") return true;
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4) return false;
  for (size_t i = 0; i < octets.size(); ++i) {
    int v = 0;
    if (octets[i].empty() || octets[i].size() > 3 ||
        !std::all_of(octets[i].begin(), octets[i].end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(octets[i], &v) || v > 255) {
      return false;
    }
    if (i == 0 && v != 127) return false;
  }
  return true;
}

namespace {

// "host:port", "[v6]:port" or a bare host -> host (brackets kept) and port
// text (empty when none).
std::pair<absl::string_view, absl::string_view> SplitHostPort(absl::string_view a) {
  if (absl::StartsWith(a, "[")) {
    size_t close = a.find(']');
    if (close == absl::string_view::npos) return {a, ""};
    absl::string_view host = a.substr(0, close + 1);
    absl::string_view after = a.substr(close + 1);
    if (absl::StartsWith(after, ":")) return {host, after.substr(1)};
    return {host, after.empty() ? after : absl::string_view("!")};
  }
  size_t colon = a.rfind(':');
  if (colon == absl::string_view::npos) return {a, ""};
  return {a.substr(0, colon), a.substr(colon + 1)};
}

bool IsPort(absl::string_view p) {
  int v = 0;
  return !p.empty() && p.size() <= 5 && std::all_of(p.begin(), p.end(), absl::ascii_isdigit) &&
         absl::SimpleAtoi(p, &v) && v <= 65535;
}

}  // namespace

bool IsLoopbackAuthority(absl::string_view authority) {
  auto [host, port] = SplitHostPort(authority);
  if (!port.empty() && !IsPort(port)) return false;
  return absl::AsciiStrToLower(host) == "localhost" || IsLoopbackAddress(host);
}

absl::StatusOr<ListenAddress> ParseLoopbackListen(absl::string_view listen) {
  auto [host, port] = SplitHostPort(listen);
  ListenAddress out;
  if (!IsPort(port) || !absl::SimpleAtoi(port, &out.port)) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat("--listen=", listen,
                                  " is not host:port; pass e.g. 127.0.0.1:8080 or [::1]:8080"),
                     "监听地址格式应为 127.0.0.1:8080。");
  }
  if (!IsLoopbackAddress(host)) {
    return MakeError(
        ErrorReason::kConfigInvalid,
        absl::StrCat("--listen=", listen,
                     ": the console listens on a loopback address only (127.0.0.1 or "
                     "[::1]). It is a desk console for the people on this machine, with "
                     "no login of its own, acting with the nodes' certificates; it must "
                     "not be reachable from the network"),
        "控制台只能监听本机回环地址（127.0.0.1 或 [::1]）：它没有登录功能，只供本机使用。");
  }
  out.host = std::string(host);
  if (absl::StartsWith(out.host, "[")) out.host = out.host.substr(1, out.host.size() - 2);
  return out;
}

}  // namespace referral::gateway
