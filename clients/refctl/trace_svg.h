// A case's whole history as one picture: a swimlane diagram in SVG.
//
// One lane per agency kind, always in the order and colour of Lanes(); only
// the lanes the case touches are drawn. Time runs down, one row per event
// (ordinal, not to scale), with the time in Asia/Shanghai and the gap since
// the previous step at the left. Each event is a dot in the lane of the node
// that acted, labelled with its Chinese name (EventKinds()), the node, and
// the summary refctl prints in the table (Summary()).
//
//  - A referral is an arrow from the sender's lane to the addressee's,
//    labelled 转出 r1 (ReferralRequested) or 再转 r2 (ReferralRedirected, which
//    names its child; the child's own ReferralRequested draws no second
//    arrow). An escalation (督办) is a dashed red arrow to the supervisor.
//  - A meeting is a translucent band from the row it was convened to the row
//    it was held or cancelled (to the last row while still scheduled), over
//    the lanes of its convener and of every node invited; a lane none of
//    whose invitees attended a held meeting is outlined, not filled.
//  - Overdue is red with a 超期 mark: every DeadlineBreached and
//    EscalationRaised, and for each breached deadline the two steps of its
//    subject (referral, meeting, application) that bound the overdue span:
//    the step that started the clock (the subject's last step at or before
//    the DeadlineSet) and the step that finally met it (the subject's first
//    step after the breach), with the DeadlineCleared that records it.
//    Steps of subjects whose deadlines were met stay in their lane colour.
//
// The output is a standalone SVG 1.1 document: all text XML-escaped, font
// "Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif" (Debian:
// fonts-noto-cjk), a <title>, a legend, and hover titles with the full
// text of every step. Elements carry data-* attributes naming what they
// show (data-lane, data-from, data-to, data-referral, data-meeting,
// data-seq), so scripts and tests can read the picture. The same events and
// options always give the same bytes. Pure: no I/O, no clock; thread-safe.

#ifndef REFERRAL_CLIENTS_REFCTL_TRACE_SVG_H_
#define REFERRAL_CLIENTS_REFCTL_TRACE_SVG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "referral/v1/directory.pb.h"
#include "referral/v1/event.pb.h"

namespace referral::refctl {

// A lane's look. The key and English name come from NodeKinds(); `zh` is
// the short heading (住建局 rather than 住房和城乡建设局).
struct LaneStyle {
  v1::NodeKind kind;
  absl::string_view zh;
  absl::string_view colour;  // "#rrggbb"; never the overdue red
};

// The seven agency kinds in lane order (left to right).
absl::Span<const LaneStyle> Lanes();

// The lane for nodes of no known kind (a service identity such as
// "deadlines"), drawn last and only when needed.
const LaneStyle& OtherLane();

// The colour of overdue steps.
inline constexpr absl::string_view kOverdueColour = "#d62728";

// What the directory says about a node.
struct NodeInfo {
  v1::NodeKind kind = v1::NODE_KIND_UNSPECIFIED;
  std::string display_name_zh;
};

struct TraceSvgOptions {
  // Nodes by name (refctl fills this from the directory's ListNodes). A node
  // missing here, or listed with no kind, gets its kind from its name.
  std::map<std::string, NodeInfo, std::less<>> nodes;
  // The case id in the title; empty = the first event's subject.
  std::string case_id;
};

// A node's agency kind: from options.nodes, else the first dot-separated
// segment of its name that is a NodeKinds() key with '-' read as '_'
// ("qinzhou.labor-inspection" -> labour inspection, "qinzhou.justice.maiji"
// -> justice); NODE_KIND_UNSPECIFIED when neither says.
v1::NodeKind KindOfNode(absl::string_view node, const TraceSvgOptions& options);

// `text` safe in XML character data and in double- or single-quoted
// attribute values: & < > " ' become entities, and characters XML 1.0
// forbids (C0 controls other than tab, newline and carriage return) are
// dropped.
std::string XmlEscape(absl::string_view text);

// The picture of `events` (one case, in sequence order).
std::string TraceSvg(const std::vector<v1::Event>& events, const TraceSvgOptions& options);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_TRACE_SVG_H_
