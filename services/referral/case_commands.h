// CaseCommands runs one command against one stream of the case log (a case,
// or a service's own stream such as a lawyer roster): read the stream,
// decide the command's events on what was read, append them with the
// stream's version as the expected version, and decide again when another
// writer got there first. Every service that writes to the case log runs its
// commands through here, so each gets the same two guarantees:
//
// - Once only. A command's events get ids derived from (caller, request_id),
//   "rq.<hash>.<i>", and carry the command's digest. A retry finds its own
//   events in the stream and is answered from the stream as the command left
//   it, also across restarts; the same request_id with another body is
//   ALREADY_EXISTS (REQUEST_ID_REUSED).
// - No lost update. The append names the version the decision was made on.
//
// Execute reads the whole stream for every decision; ExecuteCached decides
// on the case's state as a CaseCache (case_cache.h) folds it, caught up with
// the log before each decision, and reads only what was appended since.
// Both give the two guarantees above; a command found in the stream is
// recognised by its id prefix either way, also by a cache that has just
// started over (after an eviction, a restart).
//
// Thread safety: all methods may be called concurrently.

#ifndef REFERRAL_SERVICES_REFERRAL_CASE_COMMANDS_H_
#define REFERRAL_SERVICES_REFERRAL_CASE_COMMANDS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "referral/v1/event.pb.h"
#include "services/referral/case_cache.h"
#include "services/referral/case_projection.h"
#include "services/referral/ports.h"

namespace referral::broker {

// "rq.<32 hex of SHA-256(caller, request_id)>": the id prefix of a command's
// events. Namespaced by caller, so two nodes' request ids never collide.
std::string CommandPrefix(absl::string_view caller, absl::string_view request_id);

// Decides a command's events on the stream's events so far. Only the body,
// `involved_nodes`, `time` and `causation_id` of the returned events are
// kept; CaseCommands fills in the rest of the envelope.
using DecideOnHistory = std::function<absl::StatusOr<std::vector<v1::Event>>(
    const std::vector<v1::Event>& history)>;

// Decides a command's events on the case's folded state; as DecideOnHistory
// otherwise.
using DecideOnState =
    std::function<absl::StatusOr<std::vector<v1::Event>>(const CaseState& state)>;
// Takes a command's answer from the case's projection as it stood right
// after the command's own events.
using AnswerFromProjection = std::function<absl::Status(const CaseProjection& after)>;

struct CommandOptions {
  // An empty stream is fine (the command creates it); otherwise an empty
  // stream is NOT_FOUND (CASE_NOT_FOUND).
  bool may_create = false;
  // Decide-and-append attempts before a contended command gives up
  // (ABORTED, CONCURRENT_MODIFICATION: retry with the same request_id).
  int max_attempts = 8;
};

class CaseCommands {
 public:
  // `log` and `cache` are not owned and must outlive this; `cache` reads
  // through the same log. Without a cache only Execute may be called.
  explicit CaseCommands(CaseLogPort* log, CaseCache* cache = nullptr)
      : log_(log), cache_(cache) {}

  // Runs the command and returns the stream's events up to and including
  // the command's own (on a retry: as the first execution left it).
  // `caller` becomes each event's source and actor node; the caller itself
  // is dropped from `involved_nodes`.
  absl::StatusOr<std::vector<v1::Event>> Execute(
      absl::string_view caller, const std::string& stream_id,
      const std::string& request_id, const google::protobuf::Message& request,
      const DecideOnHistory& decide, CommandOptions options = {});

  // The same command, decided on the cache's state of `stream_id`. On
  // success `answer` has been called once, with the projection right after
  // the command's own events (on a retry: as the first execution left it),
  // possibly with the case locked (CaseCache::Visit): it copies out what it
  // needs and does no I/O. Its error is the command's. Usually no more than
  // the events appended since the cache last looked are read; a retry whose
  // events the case has since gone past reads the case whole.
  absl::Status ExecuteCached(absl::string_view caller, const std::string& stream_id,
                             const std::string& request_id,
                             const google::protobuf::Message& request,
                             const DecideOnState& decide,
                             const AnswerFromProjection& answer,
                             CommandOptions options = {});

 private:
  CaseLogPort* log_;
  CaseCache* cache_;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_CASE_COMMANDS_H_
