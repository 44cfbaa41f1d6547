// refctl trace's picture: the case as a swimlane SVG (trace_svg.h), with the
// directory's names for its nodes when the directory answers.

#ifndef REFERRAL_CLIENTS_REFCTL_TRACE_PICTURE_H_
#define REFERRAL_CLIENTS_REFCTL_TRACE_PICTURE_H_

#include <string>

#include "absl/status/status.h"
#include "clients/refctl/cli.h"
#include "google/protobuf/repeated_field.h"
#include "referral/v1/event.pb.h"

namespace referral::refctl {

// The SVG of a case's events. Asks the directory (--directory, as --node)
// for every node's kind and Chinese name, waiting at most 3 s or --timeout;
// when it does not answer the picture still comes, its lanes taken from
// the node names (--verbose says why on stderr).
std::string CaseSvg(const Globals& g, const std::string& case_id,
                    const google::protobuf::RepeatedPtrField<v1::Event>& events);

// CaseSvg() written to `path`; INVALID_ARGUMENT naming the file when it
// cannot be written.
absl::Status WriteCaseSvg(const Globals& g, const std::string& case_id,
                          const google::protobuf::RepeatedPtrField<v1::Event>& events,
                          const std::string& path);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_TRACE_PICTURE_H_
