#include "clients/refctl/trace_svg.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "clients/refctl/describe.h"
#include "clients/refctl/table.h"
#include "clients/refctl/units.h"
#include "common/vocabulary.h"
#include "google/protobuf/descriptor.h"

namespace referral::refctl {

absl::Span<const LaneStyle> Lanes() {
  static constexpr std::array<LaneStyle, 7> kLanes = {{
      {v1::NODE_KIND_JUSTICE, "司法局", "#1f77b4"},
      {v1::NODE_KIND_LABOR_INSPECTION, "劳动保障监察", "#ff7f0e"},
      {v1::NODE_KIND_ARBITRATION, "劳动人事争议仲裁院", "#2ca02c"},
      {v1::NODE_KIND_PETITION, "信访局", "#9467bd"},
      {v1::NODE_KIND_HOUSING, "住建局", "#8c564b"},
      {v1::NODE_KIND_UNION, "工会", "#17becf"},
      {v1::NODE_KIND_PROCURATORATE, "检察院", "#393b79"},
  }};
  return kLanes;
}

const LaneStyle& OtherLane() {
  static constexpr LaneStyle kOther = {v1::NODE_KIND_UNSPECIFIED, "其他", "#7f7f7f"};
  return kOther;
}

v1::NodeKind KindOfNode(absl::string_view node, const TraceSvgOptions& options) {
  if (auto it = options.nodes.find(node);
      it != options.nodes.end() && it->second.kind != v1::NODE_KIND_UNSPECIFIED) {
    return it->second.kind;
  }
  for (absl::string_view segment : absl::StrSplit(node, '.')) {
    std::string key(segment);
    std::replace(key.begin(), key.end(), '-', '_');
    if (const Term<v1::NodeKind>* t = FindTerm(NodeKinds(), absl::string_view(key))) {
      return t->value;
    }
  }
  return v1::NODE_KIND_UNSPECIFIED;
}

std::string XmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          break;
        }
        out.push_back(c);
    }
  }
  return out;
}

namespace {

using E = v1::Event;

constexpr absl::string_view kFont = "Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif";
constexpr absl::string_view kMeetingStroke = "#b8860b";
constexpr absl::string_view kMeetingFill = "#f2c14e";
constexpr absl::string_view kArrowColour = "#555555";

// Geometry in px; integers only, so the bytes never depend on float printing.
constexpr int kMargin = 12;
constexpr int kGutter = 190;
constexpr int kLaneWidth = 260;
constexpr int kLaneHeaderTop = 64;
constexpr int kLaneHeaderHeight = 40;
constexpr int kRowsTop = kLaneHeaderTop + kLaneHeaderHeight + 6;
constexpr int kRowHeight = 52;       // three lines of text
constexpr int kArrowExtra = 22;      // an arrow under the text
constexpr int kBandLabelExtra = 16;  // a meeting's title above the text
constexpr int kDotInset = 16;
constexpr int kTextInset = 28;
constexpr int kMinWidth = 760;
constexpr int kLegendLine = 20;

// Lanes are numbered by their place in Lanes(); the other lane comes last.
constexpr int kOther = 7;

int LaneOfKind(v1::NodeKind kind) {
  for (size_t i = 0; i < Lanes().size(); ++i) {
    if (Lanes()[i].kind == kind) return static_cast<int>(i);
  }
  return kOther;
}

const LaneStyle& StyleOf(int lane) { return lane == kOther ? OtherLane() : Lanes()[lane]; }

std::string LaneKey(int lane) {
  if (lane == kOther) return "other";
  const Term<v1::NodeKind>* t = FindTerm(NodeKinds(), Lanes()[lane].kind);
  return t ? std::string(t->key) : "other";
}

std::string LaneEn(int lane) {
  if (lane == kOther) return "other";
  const Term<v1::NodeKind>* t = FindTerm(NodeKinds(), Lanes()[lane].kind);
  return t ? std::string(t->en) : "";
}

// The event's body, or nullptr.
const google::protobuf::Message* Body(const v1::Event& e) {
  const google::protobuf::OneofDescriptor* oneof = v1::Event::descriptor()->FindOneofByName("body");
  const google::protobuf::FieldDescriptor* f = e.GetReflection()->GetOneofFieldDescriptor(e, oneof);
  return f == nullptr ? nullptr : &e.GetReflection()->GetMessage(e, f);
}

// The referral, meeting or legal-aid application a step is about; "" for
// case-wide and deadline events (those name theirs in subject_id).
std::string SubjectOf(const v1::Event& e) {
  if (e.has_legal_aid_applied()) return e.legal_aid_applied().application().application_id();
  const google::protobuf::Message* body = Body(e);
  if (body == nullptr) return "";
  for (const char* name : {"referral_id", "meeting_id", "application_id"}) {
    const google::protobuf::FieldDescriptor* f = body->GetDescriptor()->FindFieldByName(name);
    if (f != nullptr && !f->is_repeated() &&
        f->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
      return body->GetReflection()->GetString(*body, f);
    }
  }
  return "";
}

// The deadline a deadline event is about; "" for other events.
std::string DeadlineOf(const v1::Event& e) {
  switch (e.body_case()) {
    case E::kDeadlineSet:
      return e.deadline_set().deadline_id();
    case E::kDeadlineCleared:
      return e.deadline_cleared().deadline_id();
    case E::kDeadlineWarned:
      return e.deadline_warned().deadline_id();
    case E::kDeadlineBreached:
      return e.deadline_breached().deadline_id();
    case E::kReminderSent:
      return e.reminder_sent().deadline_id();
    case E::kEscalationRaised:
      return e.escalation_raised().deadline_id();
    case E::kEscalationResolved:
      return e.escalation_resolved().deadline_id();
    default:
      return "";
  }
}

std::string Parts(std::initializer_list<std::string> parts) {
  std::vector<std::string> kept;
  for (const auto& p : parts) {
    if (!p.empty()) kept.push_back(p);
  }
  return absl::StrJoin(kept, " · ");
}

// "r1/accept" for the deadline "<case>/r1/accept": the id within its case.
std::string InCase(absl::string_view id) {
  const size_t slash = id.find('/');
  return std::string(slash == absl::string_view::npos ? id : id.substr(slash + 1));
}

std::string Minutes(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(ts), Shanghai());
}

// Summary() as in the table; a few words for the deadline events it leaves
// empty.
std::string Describe(const v1::Event& e) {
  if (std::string s = Summary(e); !s.empty()) return s;
  switch (e.body_case()) {
    case E::kDeadlineSet: {
      const v1::DeadlineSet& d = e.deadline_set();
      return Parts({InCase(d.subject_id()), d.description(),
                    Minutes(d.due_time()).empty() ? "" : "期限 " + Minutes(d.due_time()),
                    d.responsible_node()});
    }
    case E::kDeadlineCleared:
      return Parts({InCase(e.deadline_cleared().deadline_id()), e.deadline_cleared().reason()});
    case E::kDeadlineWarned:
      return Parts({InCase(e.deadline_warned().deadline_id()),
                    Minutes(e.deadline_warned().due_time()).empty()
                        ? ""
                        : "期限 " + Minutes(e.deadline_warned().due_time())});
    case E::kDeadlineBreached: {
      const v1::DeadlineBreached& b = e.deadline_breached();
      return Parts({InCase(b.subject_id()), b.responsible_node(),
                    Minutes(b.due_time()).empty() ? "" : "应于 " + Minutes(b.due_time())});
    }
    case E::kReminderSent:
      return Parts(
          {InCase(e.reminder_sent().subject_id()), absl::StrJoin(e.reminder_sent().nodes(), "、")});
    case E::kEscalationRaised: {
      const v1::EscalationRaised& r = e.escalation_raised();
      return Parts({absl::StrCat(r.from_node(), " → ", r.to_node()),
                    r.level() > 0 ? absl::StrCat(r.level(), " 级") : "", r.reason()});
    }
    case E::kEscalationResolved:
      return Parts({InCase(e.escalation_resolved().deadline_id()), e.escalation_resolved().note()});
    default:
      return ShortReferralId(SubjectOf(e));
  }
}

// Pixels `text` takes at `font_px`: a wide (CJK) character about one em, the
// rest about half; generous, so text stays inside its lane.
int TextWidth(absl::string_view text, int font_px) {
  return static_cast<int>(DisplayWidth(text)) * font_px * 11 / 20;
}

// `text` cut at a character boundary to fit `max_px`, with "…" when cut.
std::string Fit(absl::string_view text, int max_px, int font_px) {
  if (TextWidth(text, font_px) <= max_px) return std::string(text);
  const int budget = max_px - TextWidth("…", font_px);
  size_t end = 0;
  int used = 0;
  while (end < text.size()) {
    size_t n = 1;
    const unsigned char b = static_cast<unsigned char>(text[end]);
    if (b >= 0xF0)
      n = 4;
    else if (b >= 0xE0)
      n = 3;
    else if (b >= 0xC0)
      n = 2;
    n = std::min(n, text.size() - end);
    const int w = TextWidth(text.substr(end, n), font_px);
    if (used + w > budget) break;
    used += w;
    end += n;
  }
  return absl::StrCat(text.substr(0, end), "…");
}

struct Deadline {
  std::string subject;
  std::string responsible;
  std::optional<size_t> set_row;
};

struct Arrow {
  size_t row;
  int from, to;          // lanes
  std::string label;     // "转出 r1"
  std::string referral;  // the referral it sends; "" for an escalation
  bool escalation = false;
};

struct Meeting {
  std::string id, title;
  size_t first_row = 0;
  std::optional<size_t> last_row;  // held or cancelled
  bool cancelled = false;
  std::vector<std::string> nodes;                   // the convener, then those invited
  std::map<std::string, std::string> invitee_node;  // invitee id -> node
  std::set<std::string> attended;                   // invitee ids
  bool held = false;
};

// Everything the picture shows, worked out before drawing.
class Layout {
 public:
  Layout(const std::vector<v1::Event>& events, const TraceSvgOptions& options)
      : events_(events), options_(options) {
    IndexDeadlines();
    for (const v1::Event& e : events_) {
      const std::string node = LaneNode(e);
      nodes_.push_back(node);
      lanes_.push_back(LaneOfKind(KindOfNode(node, options_)));
    }
    FindArrows();
    FindMeetings();
    FindOverdue();
    ChooseLanes();
    PlaceRows();
  }

  std::string Render() const;

 private:
  void IndexDeadlines();
  std::string LaneNode(const v1::Event& e) const;
  int LaneOfNode(absl::string_view node) const { return LaneOfKind(KindOfNode(node, options_)); }
  void FindArrows();
  void FindMeetings();
  void FindOverdue();
  void ChooseLanes();
  void PlaceRows();

  int LaneX(int lane) const { return kGutter + column_.at(lane) * kLaneWidth; }
  int DotX(int lane) const { return LaneX(lane) + kDotInset; }
  int Width() const {
    return std::max(kMinWidth, kGutter + static_cast<int>(shown_.size()) * kLaneWidth + kMargin);
  }
  std::string NodeName(const std::string& node) const {
    auto it = options_.nodes.find(node);
    return it != options_.nodes.end() && !it->second.display_name_zh.empty()
               ? it->second.display_name_zh
               : node;
  }

  std::string CaseId() const {
    if (!options_.case_id.empty() || events_.empty()) return options_.case_id;
    return events_.front().subject();
  }
  std::string CaseTitle() const {
    for (const v1::Event& e : events_) {
      if (e.has_case_opened()) return e.case_opened().title();
    }
    return "";
  }

  void RenderHeading(std::string& out) const;
  void RenderLanes(std::string& out) const;
  void RenderRows(std::string& out) const;
  void RenderMeetings(std::string& out) const;
  void RenderArrows(std::string& out) const;
  void RenderEvents(std::string& out) const;
  void RenderLegend(std::string& out) const;

  const std::vector<v1::Event>& events_;
  const TraceSvgOptions& options_;
  std::map<std::string, Deadline> deadlines_;
  std::vector<std::string> nodes_;  // per row: the node whose lane it is in
  std::vector<int> lanes_;          // per row
  std::vector<Arrow> arrows_;
  std::map<size_t, size_t> arrow_of_row_;
  std::vector<Meeting> meetings_;
  std::map<size_t, size_t> meeting_starting_at_;
  std::set<size_t> overdue_;
  std::vector<int> shown_;     // lanes drawn, left to right
  std::map<int, int> column_;  // lane -> column
  std::vector<int> top_, content_top_, height_;
  int rows_bottom_ = kRowsTop;
};

void Layout::IndexDeadlines() {
  for (size_t i = 0; i < events_.size(); ++i) {
    const v1::Event& e = events_[i];
    if (e.has_deadline_set()) {
      Deadline& d = deadlines_[e.deadline_set().deadline_id()];
      d.subject = e.deadline_set().subject_id();
      d.responsible = e.deadline_set().responsible_node();
      d.set_row = i;
    } else if (e.has_deadline_breached()) {
      Deadline& d = deadlines_[e.deadline_breached().deadline_id()];
      if (d.subject.empty()) d.subject = e.deadline_breached().subject_id();
      if (d.responsible.empty()) d.responsible = e.deadline_breached().responsible_node();
    }
  }
}

// The source's lane when it is an agency; events of a service identity
// (the deadlines timer) go to the node they are about.
std::string Layout::LaneNode(const v1::Event& e) const {
  if (KindOfNode(e.source(), options_) != v1::NODE_KIND_UNSPECIFIED) return e.source();
  std::string about;
  switch (e.body_case()) {
    case E::kDeadlineBreached:
      about = e.deadline_breached().responsible_node();
      break;
    case E::kEscalationRaised:
      about = e.escalation_raised().from_node();
      break;
    case E::kDeadlineSet:
      about = e.deadline_set().responsible_node();
      break;
    default:
      if (auto it = deadlines_.find(DeadlineOf(e)); it != deadlines_.end()) {
        about = it->second.responsible;
      }
  }
  if (KindOfNode(about, options_) != v1::NODE_KIND_UNSPECIFIED) return about;
  for (const std::string& n : e.involved_nodes()) {
    if (KindOfNode(n, options_) != v1::NODE_KIND_UNSPECIFIED) return n;
  }
  return e.source();
}

void Layout::FindArrows() {
  // A redirect appends ReferralRedirected naming the child and the child's
  // ReferralRequested: one hop, one arrow (the redirect's).
  std::set<std::string> children;
  for (const v1::Event& e : events_) {
    if (e.has_referral_redirected()) children.insert(e.referral_redirected().child_referral_id());
  }
  for (size_t i = 0; i < events_.size(); ++i) {
    const v1::Event& e = events_[i];
    std::optional<Arrow> a;
    if (e.has_referral_requested() && !children.count(e.referral_requested().referral_id())) {
      const v1::ReferralRequested& r = e.referral_requested();
      a = Arrow{i, lanes_[i], LaneOfNode(r.to_node()),
                absl::StrCat(EventZh(e), " ", ShortReferralId(r.referral_id())), r.referral_id()};
    } else if (e.has_referral_redirected()) {
      const v1::ReferralRedirected& r = e.referral_redirected();
      const std::string& id =
          r.child_referral_id().empty() ? r.referral_id() : r.child_referral_id();
      a = Arrow{i, lanes_[i], LaneOfNode(r.to_node()),
                absl::StrCat(EventZh(e), " ", ShortReferralId(id)), id};
    } else if (e.has_escalation_raised() && !e.escalation_raised().to_node().empty()) {
      a = Arrow{i, lanes_[i], LaneOfNode(e.escalation_raised().to_node()), EventZh(e), "", true};
    }
    if (a) {
      arrow_of_row_[i] = arrows_.size();
      arrows_.push_back(std::move(*a));
    }
  }
}

void Layout::FindMeetings() {
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < events_.size(); ++i) {
    const v1::Event& e = events_[i];
    if (e.has_meeting_convened()) {
      Meeting m;
      m.id = e.meeting_convened().meeting_id();
      m.title = e.meeting_convened().title();
      m.first_row = i;
      m.nodes.push_back(e.source());
      by_id[m.id] = meetings_.size();
      meeting_starting_at_[i] = meetings_.size();
      meetings_.push_back(std::move(m));
      continue;
    }
    auto it = by_id.find(SubjectOf(e));
    if (it == by_id.end()) continue;
    Meeting& m = meetings_[it->second];
    if (m.last_row) continue;  // already over
    if (e.has_meeting_participant_invited()) {
      const v1::Invitee& inv = e.meeting_participant_invited().invitee();
      if (!inv.node().empty()) {
        m.invitee_node[inv.invitee_id()] = inv.node();
        if (std::find(m.nodes.begin(), m.nodes.end(), inv.node()) == m.nodes.end()) {
          m.nodes.push_back(inv.node());
        }
      }
    } else if (e.has_meeting_held()) {
      m.last_row = i;
      m.held = true;
      m.attended.insert(e.meeting_held().attended().begin(), e.meeting_held().attended().end());
    } else if (e.has_meeting_cancelled()) {
      m.last_row = i;
      m.cancelled = true;
    }
  }
}

void Layout::FindOverdue() {
  std::set<std::string> breached;
  for (size_t i = 0; i < events_.size(); ++i) {
    const v1::Event& e = events_[i];
    if (e.has_deadline_breached() || e.has_escalation_raised()) {
      overdue_.insert(i);
      breached.insert(DeadlineOf(e));
    }
  }
  for (const std::string& id : breached) {
    auto d = deadlines_.find(id);
    if (d == deadlines_.end()) continue;
    // The first sign of the breach.
    size_t breach = events_.size();
    for (size_t i = 0; i < events_.size(); ++i) {
      if ((events_[i].has_deadline_breached() || events_[i].has_escalation_raised()) &&
          DeadlineOf(events_[i]) == id) {
        breach = i;
        break;
      }
    }
    const std::string& subject = d->second.subject;
    if (!subject.empty()) {
      // The step that started the clock: appended with the DeadlineSet, so
      // the subject's last step at or before it.
      const size_t clock = d->second.set_row.value_or(breach);
      for (size_t i = std::min(clock + 1, events_.size()); i-- > 0;) {
        if (SubjectOf(events_[i]) == subject) {
          overdue_.insert(i);
          break;
        }
      }
      // The step that met it, late.
      for (size_t i = breach + 1; i < events_.size(); ++i) {
        if (SubjectOf(events_[i]) == subject) {
          overdue_.insert(i);
          break;
        }
      }
    }
    for (size_t i = breach + 1; i < events_.size(); ++i) {
      if (events_[i].has_deadline_cleared() && DeadlineOf(events_[i]) == id) {
        overdue_.insert(i);
      }
    }
  }
}

void Layout::ChooseLanes() {
  std::set<int> used(lanes_.begin(), lanes_.end());
  for (const Arrow& a : arrows_) used.insert(a.to);
  for (const Meeting& m : meetings_) {
    for (const std::string& n : m.nodes) used.insert(LaneOfNode(n));
  }
  shown_.assign(used.begin(), used.end());  // lane order is the set's order
  for (size_t c = 0; c < shown_.size(); ++c) column_[shown_[c]] = static_cast<int>(c);
}

void Layout::PlaceRows() {
  int y = kRowsTop;
  for (size_t i = 0; i < events_.size(); ++i) {
    const int band = meeting_starting_at_.count(i) ? kBandLabelExtra : 0;
    const int h = kRowHeight + band + (arrow_of_row_.count(i) ? kArrowExtra : 0);
    top_.push_back(y);
    content_top_.push_back(y + band);
    height_.push_back(h);
    y += h;
  }
  rows_bottom_ = y;
}

// <text ...>escaped</text> with the given attributes.
std::string Text(int x, int y, absl::string_view attributes, absl::string_view body) {
  return absl::StrCat("<text x=\"", x, "\" y=\"", y, "\" ", attributes, ">", XmlEscape(body),
                      "</text>\n");
}

void Layout::RenderHeading(std::string& out) const {
  const int width = Width() - 2 * kMargin;
  out += Text(kMargin, 30, "font-size=\"18\" font-weight=\"bold\" fill=\"#222222\"",
              Fit(Parts({CaseId(), CaseTitle()}), width, 18));
  std::string sub = absl::StrCat(events_.size(), " 个事件 events");
  if (!events_.empty()) {
    const absl::Time first = EventTime(events_.front()), last = EventTime(events_.back());
    absl::StrAppend(&sub, " · ", FormatShanghai(first), " – ", FormatShanghai(last),
                    " (Asia/Shanghai)");
    if (events_.size() > 1) absl::StrAppend(&sub, " · 历时 ", FormatGap(last - first).substr(1));
  }
  out += Text(kMargin, 50, "font-size=\"12\" fill=\"#555555\"", Fit(sub, width, 12));
}

void Layout::RenderLanes(std::string& out) const {
  out += Text(kMargin, kLaneHeaderTop + 17,
              "font-size=\"12\" font-weight=\"bold\" fill=\"#333333\"", "序 · 时间 Asia/Shanghai");
  out += Text(kMargin, kLaneHeaderTop + 33, "font-size=\"11\" fill=\"#777777\"",
              "距上一步 since previous");
  for (int lane : shown_) {
    const LaneStyle& s = StyleOf(lane);
    const int x = LaneX(lane);
    absl::StrAppend(&out, "<g class=\"lane\" data-lane=\"", LaneKey(lane), "\">\n");
    absl::StrAppend(&out, "<rect x=\"", x + 2, "\" y=\"", kLaneHeaderTop + kLaneHeaderHeight,
                    "\" width=\"", kLaneWidth - 4, "\" height=\"",
                    rows_bottom_ - kLaneHeaderTop - kLaneHeaderHeight, "\" fill=\"", s.colour,
                    "\" fill-opacity=\"0.06\"/>\n");
    absl::StrAppend(&out, "<line x1=\"", x + kDotInset, "\" y1=\"",
                    kLaneHeaderTop + kLaneHeaderHeight, "\" x2=\"", x + kDotInset, "\" y2=\"",
                    rows_bottom_, "\" stroke=\"", s.colour,
                    "\" stroke-opacity=\"0.35\" stroke-width=\"2\"/>\n");
    absl::StrAppend(&out, "<rect x=\"", x + 2, "\" y=\"", kLaneHeaderTop, "\" width=\"",
                    kLaneWidth - 4, "\" height=\"", kLaneHeaderHeight, "\" rx=\"4\" fill=\"",
                    s.colour, "\"/>\n");
    out += Text(x + 10, kLaneHeaderTop + 18,
                "font-size=\"14\" font-weight=\"bold\" fill=\"#ffffff\"", s.zh);
    out += Text(x + 10, kLaneHeaderTop + 33, "font-size=\"10\" fill=\"#ffffff\"",
                Fit(LaneEn(lane), kLaneWidth - 20, 10));
    out += "</g>\n";
  }
}

void Layout::RenderRows(std::string& out) const {
  const int width = Width();
  absl::Time previous = absl::InfinitePast();
  out += "<g class=\"times\">\n";
  for (size_t i = 0; i < events_.size(); ++i) {
    const v1::Event& e = events_[i];
    const absl::Time t = EventTime(e);
    const int y = content_top_[i];
    absl::StrAppend(&out, "<line x1=\"0\" y1=\"", top_[i], "\" x2=\"", width, "\" y2=\"", top_[i],
                    "\" stroke=\"#e6e6e6\"/>\n");
    out += Text(kMargin, y + 15, "font-size=\"11\" font-weight=\"bold\" fill=\"#333333\"",
                absl::StrCat("#", e.sequence()));
    out += Text(kMargin + 34, y + 15, "font-size=\"11\" fill=\"#333333\"", FormatShanghai(t));
    if (previous != absl::InfinitePast()) {
      out +=
          Text(kMargin + 34, y + 30, "font-size=\"11\" fill=\"#777777\"", FormatGap(t - previous));
    }
    previous = t;
  }
  out += "</g>\n";
}

void Layout::RenderMeetings(std::string& out) const {
  for (const Meeting& m : meetings_) {
    const size_t last = m.last_row.value_or(events_.size() - 1);
    const int y1 = top_[m.first_row] + 2;
    const int y2 = top_[last] + height_[last] - 2;
    // Lanes, left to right; a lane is absent when the meeting was held with
    // attendance recorded and none of the nodes invited from it attended.
    // The convener's lane never is.
    std::map<int, bool> absent;
    for (const std::string& node : m.nodes) absent.emplace(LaneOfNode(node), false);
    const int convener = LaneOfNode(m.nodes.front());
    if (m.held && !m.attended.empty()) {
      for (auto& [lane, is_absent] : absent) {
        bool invited = false, came = false;
        for (const auto& [invitee, node] : m.invitee_node) {
          if (LaneOfNode(node) != lane) continue;
          invited = true;
          came = came || m.attended.count(invitee) > 0;
        }
        is_absent = lane != convener && invited && !came;
      }
    }
    std::vector<std::string> keys;
    for (const auto& [lane, unused] : absent) keys.push_back(LaneKey(lane));
    absl::StrAppend(&out, "<g class=\"meeting\" data-meeting=\"", XmlEscape(m.id),
                    "\" data-lanes=\"", absl::StrJoin(keys, " "), "\">\n<title>",
                    XmlEscape(Parts({"会议 meeting", m.title, ShortReferralId(m.id),
                                     m.cancelled ? "已取消 cancelled"
                                     : m.held    ? "已召开 held"
                                                 : "未召开 scheduled"})),
                    "</title>\n");
    // One rectangle per run of neighbouring lanes that look the same.
    std::vector<std::pair<int, bool>> columns;  // column, absent
    for (const auto& [lane, is_absent] : absent) columns.emplace_back(column_.at(lane), is_absent);
    std::sort(columns.begin(), columns.end());
    for (size_t i = 0; i < columns.size();) {
      size_t j = i + 1;
      while (j < columns.size() && columns[j].first == columns[j - 1].first + 1 &&
             columns[j].second == columns[i].second) {
        ++j;
      }
      std::vector<std::string> run;
      for (size_t k = i; k < j; ++k) run.push_back(LaneKey(shown_[columns[k].first]));
      const int x = kGutter + columns[i].first * kLaneWidth + 4;
      const int w = static_cast<int>(j - i) * kLaneWidth - 8;
      absl::StrAppend(&out, "<rect class=\"band\" data-lanes=\"", absl::StrJoin(run, " "),
                      "\" x=\"", x, "\" y=\"", y1, "\" width=\"", w, "\" height=\"", y2 - y1,
                      "\" rx=\"6\" fill=\"", kMeetingFill, "\" fill-opacity=\"",
                      columns[i].second ? "0" : "0.22", "\" stroke=\"", kMeetingStroke,
                      "\" stroke-dasharray=\"", columns[i].second ? "2 3" : "6 3", "\"/>\n");
      i = j;
    }
    const int label_x = kGutter + columns.front().first * kLaneWidth + 10;
    std::string label = absl::StrCat("会议 ", m.title.empty() ? ShortReferralId(m.id) : m.title,
                                     m.cancelled ? "（已取消）" : "");
    out += Text(label_x, top_[m.first_row] + 13,
                absl::StrCat("font-size=\"11\" font-weight=\"bold\" fill=\"", kMeetingStroke, "\""),
                Fit(label, static_cast<int>(keys.size()) * kLaneWidth - 20, 11));
    out += "</g>\n";
  }
}

void Layout::RenderArrows(std::string& out) const {
  for (const Arrow& a : arrows_) {
    const bool red = a.escalation || overdue_.count(a.row);
    const absl::string_view colour = red ? kOverdueColour : kArrowColour;
    const int cy = content_top_[a.row] + 10;
    const int ya = content_top_[a.row] + kRowHeight + 10;
    const int fx = DotX(a.from);
    // A hop inside one lane (a district centre to its town station) turns
    // back into the lane.
    const int tx = a.from == a.to ? fx + 48 : DotX(a.to);
    const int dir = tx > fx ? 1 : -1;
    absl::StrAppend(&out, "<g class=\"arrow ", a.escalation ? "escalation" : "referral",
                    red ? " overdue" : "", "\"");
    if (!a.referral.empty()) {
      absl::StrAppend(&out, " data-referral=\"", XmlEscape(a.referral), "\"");
    }
    absl::StrAppend(&out, " data-from=\"", LaneKey(a.from), "\" data-to=\"", LaneKey(a.to),
                    "\" data-kind=\"", XmlEscape(EventType(events_[a.row])), "\">\n");
    absl::StrAppend(&out, "<path d=\"M", fx, " ", cy + 7, " V", ya, " H", tx - dir * 8,
                    "\" fill=\"none\" stroke=\"", colour, "\" stroke-width=\"1.6\"",
                    a.escalation ? " stroke-dasharray=\"5 3\"" : "", " marker-end=\"url(#",
                    red ? "head-overdue" : "head", ")\"/>\n");
    absl::StrAppend(&out, "<circle cx=\"", tx, "\" cy=\"", ya,
                    "\" r=\"5\" fill=\"#ffffff\" stroke=\"", StyleOf(a.to).colour,
                    "\" stroke-width=\"2\"/>\n");
    const std::string attrs =
        absl::StrCat("font-size=\"11\" font-weight=\"bold\" fill=\"", colour,
                     "\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"");
    if (a.from == a.to) {
      out += Text(tx + 10, ya + 4, attrs, a.label);
    } else {
      out += Text((fx + tx) / 2, ya - 5, absl::StrCat(attrs, " text-anchor=\"middle\""), a.label);
    }
    out += "</g>\n";
  }
}

void Layout::RenderEvents(std::string& out) const {
  for (size_t i = 0; i < events_.size(); ++i) {
    const v1::Event& e = events_[i];
    const int lane = lanes_[i];
    const bool red = overdue_.count(i) > 0;
    const absl::string_view colour = red ? kOverdueColour : StyleOf(lane).colour;
    const int x = LaneX(lane), y = content_top_[i];
    const std::string summary = Describe(e);
    const std::string zh = EventZh(e);
    absl::StrAppend(&out, "<g class=\"event", red ? " overdue" : "", "\" data-seq=\"", e.sequence(),
                    "\" data-lane=\"", LaneKey(lane), "\" data-node=\"", XmlEscape(nodes_[i]),
                    "\">\n<title>",
                    XmlEscape(Parts({absl::StrCat("#", e.sequence()), FormatShanghai(EventTime(e)),
                                     absl::StrCat(zh, " ", EventType(e)), nodes_[i], summary,
                                     red ? "超期 overdue" : ""})),
                    "</title>\n");
    absl::StrAppend(&out, "<circle cx=\"", x + kDotInset, "\" cy=\"", y + 10, "\" r=\"",
                    red ? 7 : 6, "\" fill=\"", colour,
                    "\" stroke=\"#ffffff\" stroke-width=\"1.5\"/>\n");
    const int text_x = x + kTextInset, text_w = kLaneWidth - kTextInset - 8;
    absl::StrAppend(&out, "<text x=\"", text_x, "\" y=\"", y + 15,
                    "\" font-size=\"13\" font-weight=\"bold\" fill=\"",
                    red ? kOverdueColour : "#222222", "\">", XmlEscape(Fit(zh, text_w - 40, 13)));
    // The mark, unless the label already says it.
    if (red && !e.has_deadline_breached()) {
      absl::StrAppend(&out, "<tspan class=\"overdue-mark\" fill=\"", kOverdueColour,
                      "\"> 超期</tspan>");
    }
    out += "</text>\n";
    out += Text(text_x, y + 29, "font-size=\"10\" fill=\"#777777\"",
                Fit(NodeName(nodes_[i]), text_w, 10));
    out += Text(text_x, y + 43,
                absl::StrCat("font-size=\"11\" fill=\"", red ? kOverdueColour : "#444444", "\""),
                Fit(summary, text_w, 11));
    out += "</g>\n";
  }
}

void Layout::RenderLegend(std::string& out) const {
  int y = rows_bottom_ + 28;
  absl::StrAppend(&out, "<g class=\"legend\">\n<line x1=\"0\" y1=\"", rows_bottom_, "\" x2=\"",
                  Width(), "\" y2=\"", rows_bottom_, "\" stroke=\"#cccccc\"/>\n");
  out += Text(kMargin, y, "font-size=\"12\" font-weight=\"bold\" fill=\"#333333\"", "图例 Legend");
  const int sx = kMargin + 10, tx = kMargin + 64;
  const std::string text_attrs = "font-size=\"11\" fill=\"#333333\"";
  y += kLegendLine;
  absl::StrAppend(&out, "<circle cx=\"", sx, "\" cy=\"", y - 4, "\" r=\"6\" fill=\"",
                  Lanes()[0].colour, "\"/>\n");
  out += Text(tx, y, text_attrs,
              "步骤：所在泳道为办理机构 a step, in the lane of the agency that acted");
  y += kLegendLine;
  absl::StrAppend(
      &out, "<path d=\"M", sx - 8, " ", y - 4, " H", sx + 28, "\" stroke=\"", kArrowColour,
      "\" stroke-width=\"1.6\" marker-end=\"url(#head)\"/>\n", "<circle cx=\"", sx + 36, "\" cy=\"",
      y - 4, "\" r=\"5\" fill=\"#ffffff\" stroke=\"", kArrowColour, "\" stroke-width=\"2\"/>\n");
  out += Text(tx, y, text_attrs,
              "转出 / 再转：转介从转出机构指向接收机构 a referral, sender to addressee");
  y += kLegendLine;
  absl::StrAppend(
      &out, "<path d=\"M", sx - 8, " ", y - 4, " H", sx + 28, "\" stroke=\"", kOverdueColour,
      "\" stroke-width=\"1.6\" stroke-dasharray=\"5 3\" marker-end=\"url(#head-overdue)\"/>\n");
  out += Text(tx, y, text_attrs, "督办：超期后提交督办机构 an escalation to the supervising node");
  y += kLegendLine;
  absl::StrAppend(&out, "<rect x=\"", sx - 8, "\" y=\"", y - 12,
                  "\" width=\"44\" height=\"14\" rx=\"4\" fill=\"", kMeetingFill,
                  "\" fill-opacity=\"0.22\" stroke=\"", kMeetingStroke,
                  "\" stroke-dasharray=\"6 3\"/>\n");
  out += Text(tx, y, text_attrs,
              "会议：从召集到召开或取消，覆盖召集和受邀机构（虚线框为未出席）a meeting, "
              "convened to held, across the lanes invited");
  y += kLegendLine;
  absl::StrAppend(&out, "<circle cx=\"", sx, "\" cy=\"", y - 4, "\" r=\"7\" fill=\"",
                  kOverdueColour, "\"/>\n");
  out += Text(tx, y, absl::StrCat("font-size=\"11\" fill=\"", kOverdueColour, "\""),
              "超期：超过时限的步骤、超期与督办事件 overdue steps, breaches and escalations");
  y += kLegendLine;
  out += Text(kMargin, y, "font-size=\"11\" fill=\"#777777\"",
              "时间自上而下，每行一个事件（不按比例）；时间为北京时间 Asia/Shanghai，"
              "+ 为距上一步的间隔。Time runs down, one row per event.");
  out += "</g>\n";
}

std::string Layout::Render() const {
  const int height = rows_bottom_ + 28 + 6 * kLegendLine + 16;
  const int width = Width();
  const std::string title =
      Parts({absl::StrCat("案件 ", CaseId(), " 办理轨迹 case trace"), CaseTitle()});
  std::string out;
  absl::StrAppend(&out, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"", width,
                  "\" height=\"", height, "\" viewBox=\"0 0 ", width, " ", height,
                  "\" font-family=\"", kFont, "\">\n");
  absl::StrAppend(&out, "<title>", XmlEscape(title), "</title>\n");
  absl::StrAppend(&out, "<defs>\n");
  for (const auto& [id, colour] :
       {std::pair<absl::string_view, absl::string_view>{"head", kArrowColour},
        {"head-overdue", kOverdueColour}}) {
    absl::StrAppend(&out, "<marker id=\"", id,
                    "\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                    "markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0 L10 5 L0 10 z\" fill=\"",
                    colour, "\"/></marker>\n");
  }
  absl::StrAppend(&out, "</defs>\n");
  absl::StrAppend(&out, "<rect width=\"", width, "\" height=\"", height, "\" fill=\"#ffffff\"/>\n");
  RenderHeading(out);
  RenderLanes(out);
  RenderRows(out);
  RenderMeetings(out);
  RenderArrows(out);
  RenderEvents(out);
  RenderLegend(out);
  out += "</svg>\n";
  return out;
}

}  // namespace

std::string TraceSvg(const std::vector<v1::Event>& events, const TraceSvgOptions& options) {
  return Layout(events, options).Render();
}

}  // namespace referral::refctl
