#include "services/referral/case_commands.h"

#include <optional>
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

absl::Status CaseNotFound(const std::string& stream_id) {
  return MakeError(ErrorReason::kCaseNotFound,
                   absl::StrCat("case ", stream_id, " was never opened"), "案件不存在",
                   {.metadata = {{"case_id", stream_id}}});
}

absl::Status RequestIdReused(const std::string& request_id) {
  return MakeError(ErrorReason::kRequestIdReused,
                   absl::StrCat("request_id \"", request_id,
                                "\" was already used for a different command: use a "
                                "new request_id for a new command"),
                   "请求编号已被其他请求使用，请为新请求使用新编号",
                   {.field = "request_id"});
}

absl::Status GaveUp(const std::string& stream_id) {
  return MakeError(ErrorReason::kConcurrentModification,
                   absl::StrCat(stream_id,
                                " kept changing while the command was decided; "
                                "retry with the same request_id"),
                   "案件正被频繁修改，请用相同的请求编号重试");
}

// The command's decided events, enveloped, as one append at `version`.
v1::AppendRequest MakeAppend(absl::string_view caller, const std::string& stream_id,
                             const std::string& prefix, const std::string& digest,
                             uint64_t version, std::vector<v1::Event> decided) {
  v1::AppendRequest append;
  append.set_case_id(stream_id);
  append.set_expected(v1::EXPECTED_VERSION_EXACT);
  append.set_expected_version(version);
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
  return append;
}

// OK when the append went in or lost a race (decide again); otherwise the
// command's error.
absl::Status AppendOutcome(const absl::StatusOr<v1::AppendResponse>& appended,
                           const std::string& stream_id, const std::string& request_id) {
  if (appended.ok()) return absl::OkStatus();
  ErrorView v = ViewError(appended.status());
  if (v.reason == "EVENT_ID_REUSED" && v.metadata["case_id"] != stream_id) {
    // Event ids are unique across the whole log: this caller already
    // used the request id for a command on another stream.
    return MakeError(
        ErrorReason::kRequestIdReused,
        absl::StrCat("request_id \"", request_id,
                     "\" was already used for a command on ", v.metadata["case_id"],
                     ": use a new request_id for a new command"),
        "请求编号已被其他请求使用，请为新请求使用新编号",
        {.metadata = {{"case_id", v.metadata["case_id"]}}, .field = "request_id"});
  }
  if (IsConflict(appended.status())) return absl::OkStatus();
  return appended.status();
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
      return CaseNotFound(stream_id);
    }
    // Already done? Then the answer is the stream as this command left it.
    for (size_t i = 0; i < events.size(); ++i) {
      if (!absl::StartsWith(events[i].event_id(), prefix)) continue;
      if (events[i].request_digest() != digest) return RequestIdReused(request_id);
      size_t end = i;
      while (end < events.size() && absl::StartsWith(events[end].event_id(), prefix)) {
        ++end;
      }
      events.resize(end);
      return events;
    }
    ASSIGN_OR_RETURN(std::vector<v1::Event> decided, decide(events));
    const uint64_t version = events.empty() ? 0 : events.back().sequence();
    RETURN_IF_ERROR(AppendOutcome(
        log_->Append(MakeAppend(caller, stream_id, prefix, digest, version,
                                std::move(decided))),
        stream_id, request_id));
    // Appended, or someone else moved first: either way the next read
    // finds this command's events or decides afresh.
  }
  return GaveUp(stream_id);
}

absl::Status CaseCommands::ExecuteCached(
    absl::string_view caller, const std::string& stream_id,
    const std::string& request_id, const google::protobuf::Message& request,
    const DecideOnState& decide, const AnswerFromProjection& answer,
    CommandOptions options) {
  RETURN_IF_ERROR(storage::ValidateToken(request_id, "request_id"));
  const std::string key = CommandPrefix(caller, request_id);
  const std::string prefix = key + ".";
  const std::string digest = Sha256(SerializeDeterministic(request));
  // After this command's own append, fold no further than its events: the
  // state there is its answer.
  uint64_t upto = CaseCache::kToTheEnd;
  for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
    std::optional<CaseState::Command> done;
    bool answered = false;
    std::vector<v1::Event> decided;
    uint64_t version = 0;
    RETURN_IF_ERROR(cache_->Visit(
        stream_id,
        [&](const CaseState& s) -> absl::Status {
          if (const CaseState::Command* c = s.FindCommand(key)) {
            if (c->digest != digest) return RequestIdReused(request_id);
            done = *c;
            if (s.version != c->last_sequence) return absl::OkStatus();
            answered = true;
            return answer(s.projection);
          }
          if (s.version == 0 && !options.may_create) return CaseNotFound(stream_id);
          ASSIGN_OR_RETURN(decided, decide(s));
          version = s.version;
          return absl::OkStatus();
        },
        upto));
    if (done) {
      if (answered) return absl::OkStatus();
      // Found, but the case has moved on since: fold it up to the command.
      ASSIGN_OR_RETURN(CaseProjection then,
                       cache_->ProjectionAt(stream_id, done->last_sequence));
      return answer(then);
    }
    absl::StatusOr<v1::AppendResponse> appended = log_->Append(
        MakeAppend(caller, stream_id, prefix, digest, version, std::move(decided)));
    RETURN_IF_ERROR(AppendOutcome(appended, stream_id, request_id));
    upto = appended.ok() ? appended->last_sequence() : CaseCache::kToTheEnd;
  }
  return GaveUp(stream_id);
}

}  // namespace referral::broker
