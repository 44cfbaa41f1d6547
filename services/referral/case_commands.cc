#include "services/referral/case_commands.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "storage/event_store.h"

namespace referral::broker {
namespace {

bool IsConflict(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAborted ||
         (s.code() == absl::StatusCode::kAlreadyExists &&
          ViewError(s).reason == "EVENT_ID_REUSED");
}

}  // namespace

std::string CommandPrefix(absl::string_view caller, absl::string_view request_id) {
  return absl::StrCat(
      "rq.", HexOf(Sha256(absl::StrCat(caller, std::string(1, '\0'), request_id)))
                 .substr(0, 32));
}

absl::StatusOr<std::vector<v1::Event>> CaseCommands::Execute(
    absl::string_view caller, const std::string& stream_id,
    const std::string& request_id, const google::protobuf::Message& request,
    const DecideOnHistory& decide, CommandOptions options) {
  RETURN_IF_ERROR(storage::ValidateToken(request_id, "request_id"));
  const std::string prefix = CommandPrefix(caller, request_id) + ".";
  const std::string digest = Sha256(SerializeDeterministic(request));
  for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
    std::vector<v1::Event> events;
    absl::StatusOr<std::vector<v1::Event>> read = log_->ReadCase(stream_id);
    if (read.ok()) {
      events = std::move(*read);
    } else if (read.status().code() != absl::StatusCode::kNotFound) {
      return read.status();
    } else if (!options.may_create) {
      return MakeError(ErrorReason::kCaseNotFound,
                       absl::StrCat("case ", stream_id, " was never opened"),
                       "案件不存在", {.metadata = {{"case_id", stream_id}}});
    }
    // Already done? Then the answer is the stream as this command left it.
    for (size_t i = 0; i < events.size(); ++i) {
      if (!absl::StartsWith(events[i].event_id(), prefix)) continue;
      if (events[i].request_digest() != digest) {
        return MakeError(
            ErrorReason::kRequestIdReused,
            absl::StrCat("request_id \"", request_id,
                         "\" was already used for a different command: use a "
                         "new request_id for a new command"),
            "请求编号已被其他请求使用，请为新请求使用新编号",
            {.field = "request_id"});
      }
      size_t end = i;
      while (end < events.size() && absl::StartsWith(events[end].event_id(), prefix)) {
        ++end;
      }
      events.resize(end);
      return events;
    }
    ASSIGN_OR_RETURN(std::vector<v1::Event> decided, decide(events));

    v1::AppendRequest append;
    append.set_case_id(stream_id);
    append.set_expected(v1::EXPECTED_VERSION_EXACT);
    append.set_expected_version(events.empty() ? 0 : events.back().sequence());
    for (size_t i = 0; i < decided.size(); ++i) {
      v1::Event* e = append.add_events();
      *e = std::move(decided[i]);
      e->set_event_id(absl::StrCat(prefix, i));
      e->set_source(std::string(caller));
      e->mutable_actor()->set_node(std::string(caller));
      e->set_correlation_id(stream_id);
      e->set_request_digest(digest);
      // The feed's node index finds an event by its source and these.
      std::set<std::string> involved(e->involved_nodes().begin(),
                                     e->involved_nodes().end());
      involved.erase(std::string(caller));
      involved.erase("");
      e->clear_involved_nodes();
      for (const auto& n : involved) e->add_involved_nodes(n);
    }
    absl::StatusOr<v1::AppendResponse> appended = log_->Append(append);
    if (!appended.ok()) {
      ErrorView v = ViewError(appended.status());
      if (v.reason == "EVENT_ID_REUSED" && v.metadata["case_id"] != stream_id) {
        // Event ids are unique across the whole log: this caller already
        // used the request id for a command on another stream.
        return MakeError(
            ErrorReason::kRequestIdReused,
            absl::StrCat("request_id \"", request_id,
                         "\" was already used for a command on ",
                         v.metadata["case_id"],
                         ": use a new request_id for a new command"),
            "请求编号已被其他请求使用，请为新请求使用新编号",
            {.metadata = {{"case_id", v.metadata["case_id"]}},
             .field = "request_id"});
      }
      if (!IsConflict(appended.status())) return appended.status();
    }
    // Appended, or someone else moved first: either way the next read
    // finds this command's events or decides afresh.
  }
  return MakeError(ErrorReason::kConcurrentModification,
                   absl::StrCat(stream_id,
                                " kept changing while the command was decided; "
                                "retry with the same request_id"),
                   "案件正被频繁修改，请用相同的请求编号重试");
}

}  // namespace referral::broker
