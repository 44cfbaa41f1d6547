#include "clients/refctl/trace_svg.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/refctl/units.h"
#include "common/vocabulary.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral::refctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kCase[] = "qinzhou.justice:2026-000001";
constexpr char kJustice[] = "qinzhou.justice";
constexpr char kInspection[] = "qinzhou.labor-inspection";
constexpr char kArbitration[] = "qinzhou.arbitration";
constexpr char kHousing[] = "qinzhou.housing";
constexpr char kUnion[] = "qinzhou.union";

// ------------------------------------------------------------ XML checking

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
         c == '.';
}

// "" when `at` starts a predefined or numeric entity; the problem otherwise.
std::string EntityProblem(absl::string_view s, size_t at) {
  size_t semi = s.find(';', at);
  if (semi == absl::string_view::npos || semi - at > 10) return "bare &";
  absl::string_view name = s.substr(at + 1, semi - at - 1);
  if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") return "";
  if (name.size() > 1 && name[0] == '#') return "";
  return absl::StrCat("unknown entity &", name, ";");
}

// A small well-formedness check: one root element, tags nested and closed,
// attribute values quoted and unique per element, every & an entity, no <
// in text or attribute values, no control characters. "" when well formed.
std::string XmlProblem(absl::string_view s) {
  std::vector<std::string> open;
  bool had_root = false;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\r' && c != '\t') {
      return absl::StrCat("control character at ", i);
    }
    if (c == '&') {
      if (std::string p = EntityProblem(s, i); !p.empty()) return absl::StrCat(p, " at ", i);
      ++i;
      continue;
    }
    if (c != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(c))) {
        return absl::StrCat("text outside the root at ", i);
      }
      ++i;
      continue;
    }
    if (s.substr(i, 4) == "<!--") {
      size_t end = s.find("-->", i);
      if (end == absl::string_view::npos) return "unclosed comment";
      i = end + 3;
      continue;
    }
    const bool closing = i + 1 < s.size() && s[i + 1] == '/';
    size_t j = i + (closing ? 2 : 1);
    size_t name_start = j;
    while (j < s.size() && IsNameChar(s[j])) ++j;
    std::string name(s.substr(name_start, j - name_start));
    if (name.empty()) return absl::StrCat("tag without a name at ", i);
    if (closing) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size() || s[j] != '>') return absl::StrCat("bad end tag at ", i);
      if (open.empty() || open.back() != name) {
        return absl::StrCat("</", name, "> closes ", open.empty() ? "nothing" : open.back());
      }
      open.pop_back();
      i = j + 1;
      continue;
    }
    if (open.empty() && had_root) return "a second root element";
    std::vector<std::string> attributes;
    for (;;) {
      const size_t before = j;
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size()) return absl::StrCat("unclosed tag <", name);
      if (s[j] == '>' || s.substr(j, 2) == "/>") break;
      if (j == before) return absl::StrCat("no space before an attribute in <", name);
      size_t a = j;
      while (j < s.size() && IsNameChar(s[j])) ++j;
      std::string attribute(s.substr(a, j - a));
      if (attribute.empty() || j >= s.size() || s[j] != '=') {
        return absl::StrCat("bad attribute in <", name, " at ", a);
      }
      for (const auto& seen : attributes) {
        if (seen == attribute) return absl::StrCat("duplicate attribute ", attribute);
      }
      attributes.push_back(attribute);
      ++j;
      if (j >= s.size() || (s[j] != '"' && s[j] != '\'')) return "unquoted attribute value";
      const char quote = s[j];
      size_t end = s.find(quote, j + 1);
      if (end == absl::string_view::npos) return "unterminated attribute value";
      for (size_t k = j + 1; k < end; ++k) {
        if (s[k] == '<') return absl::StrCat("< in the value of ", attribute);
        if (s[k] == '&') {
          if (std::string p = EntityProblem(s, k); !p.empty()) return p;
        }
      }
      j = end + 1;
    }
    had_root = true;
    if (s[j] == '/') {
      i = j + 2;
    } else {
      open.push_back(name);
      i = j + 1;
    }
  }
  if (!open.empty()) return absl::StrCat("<", open.back(), "> never closed");
  if (!had_root) return "no element";
  return "";
}

TEST(XmlChecker, CatchesBrokenDocuments) {
  EXPECT_EQ(XmlProblem("<svg a=\"1\"><g><text>x &amp; y</text></g></svg>\n"), "");
  EXPECT_NE(XmlProblem("<svg><g></svg>"), "");
  EXPECT_NE(XmlProblem("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(XmlProblem("<svg><text>a < b</text></svg>"), "");
  EXPECT_NE(XmlProblem("<svg a=\"<\"/>"), "");
  EXPECT_NE(XmlProblem("<svg a=\"1\" a=\"2\"/>"), "");
  EXPECT_NE(XmlProblem("<svg/><svg/>"), "");
  EXPECT_NE(XmlProblem("<svg a=1/>"), "");
}

// --------------------------------------------------------- reading the SVG

// Every element that starts with `start` (e.g. `<g class="event`), up to the
// end of its group: the pictures' groups hold no nested groups.
std::vector<std::string> Groups(const std::string& svg, const std::string& start) {
  std::vector<std::string> out;
  for (size_t at = svg.find(start); at != std::string::npos; at = svg.find(start, at + 1)) {
    size_t end = svg.find("</g>", at);
    out.push_back(svg.substr(at, end == std::string::npos ? std::string::npos : end - at));
  }
  return out;
}

// The value of attribute `name` on the first element of `element`.
std::string Attr(const std::string& element, absl::string_view name) {
  const std::string key = absl::StrCat(" ", name, "=\"");
  size_t at = element.find(key);
  if (at == std::string::npos || at > element.find('>')) return "";
  at += key.size();
  return element.substr(at, element.find('"', at) - at);
}

std::string EventGroup(const std::string& svg, uint64_t seq) {
  for (const std::string& g : Groups(svg, "<g class=\"event")) {
    if (Attr(g, "data-seq") == absl::StrCat(seq)) return g;
  }
  return "";
}

std::vector<std::string> LaneKeys(const std::string& svg) {
  std::vector<std::string> keys;
  for (const std::string& g : Groups(svg, "<g class=\"lane\""))
    keys.push_back(Attr(g, "data-lane"));
  return keys;
}

// The y of an event's dot.
int DotY(const std::string& svg, uint64_t seq) {
  const std::string g = EventGroup(svg, seq);
  return std::stoi(Attr(g.substr(g.find("<circle")), "cy"));
}

bool IsRed(const std::string& element) { return absl::StrContains(element, kOverdueColour); }

// ------------------------------------------------------------ the events

// Builds a case's events by hand, in order, one minute apart from 09:00.
class Scene {
 public:
  v1::Event& Add(absl::string_view source) {
    v1::Event& e = events_.emplace_back();
    e.set_event_id(absl::StrCat("ev-", events_.size()));
    e.set_subject(kCase);
    e.set_source(std::string(source));
    e.set_sequence(events_.size());
    const absl::Time t = absl::FromCivil(absl::CivilMinute(2026, 5, 6, 9, 0), Shanghai()) +
                         absl::Minutes(static_cast<int64_t>(events_.size() - 1) * 37);
    e.mutable_recorded_time()->set_seconds(absl::ToUnixSeconds(t));
    return e;
  }
  uint64_t Last() const { return events_.size(); }

  uint64_t Open(absl::string_view title = "项目欠薪") {
    auto* o = Add(kJustice).mutable_case_opened();
    o->set_owning_node(kJustice);
    o->set_title(std::string(title));
    return Last();
  }
  uint64_t Refer(absl::string_view from, absl::string_view to, absl::string_view id,
                 absl::string_view parent = "") {
    auto* r = Add(from).mutable_referral_requested();
    r->set_referral_id(absl::StrCat(kCase, "/", id));
    r->set_to_node(std::string(to));
    r->set_purpose("责令支付工资");
    r->set_parent_referral_id(parent.empty() ? "" : absl::StrCat(kCase, "/", parent));
    return Last();
  }
  uint64_t Accept(absl::string_view by, absl::string_view id) {
    Add(by).mutable_referral_accepted()->set_referral_id(absl::StrCat(kCase, "/", id));
    return Last();
  }
  // What the broker appends for a redirect: the parent's ReferralRedirected
  // and the child's ReferralRequested.
  uint64_t Redirect(absl::string_view by, absl::string_view id, absl::string_view to,
                    absl::string_view child) {
    auto* d = Add(by).mutable_referral_redirected();
    d->set_referral_id(absl::StrCat(kCase, "/", id));
    d->set_to_node(std::string(to));
    d->set_child_referral_id(absl::StrCat(kCase, "/", child));
    d->set_reason("属仲裁受理范围");
    const uint64_t seq = Last();
    Refer(by, to, child, id);
    return seq;
  }
  uint64_t SetDeadline(absl::string_view by, absl::string_view id, absl::string_view responsible) {
    auto* d = Add(by).mutable_deadline_set();
    d->set_deadline_id(absl::StrCat(kCase, "/", id, "/accept"));
    d->set_kind(v1::DEADLINE_KIND_REFERRAL_ACCEPTANCE);
    d->set_subject_id(absl::StrCat(kCase, "/", id));
    d->set_responsible_node(std::string(responsible));
    d->set_description("受理转介");
    return Last();
  }
  // What the deadlines service appends: DeadlineBreached, EscalationRaised.
  uint64_t Breach(absl::string_view id, absl::string_view responsible) {
    auto* b = Add("deadlines").mutable_deadline_breached();
    b->set_deadline_id(absl::StrCat(kCase, "/", id, "/accept"));
    b->set_subject_id(absl::StrCat(kCase, "/", id));
    b->set_responsible_node(std::string(responsible));
    const uint64_t seq = Last();
    auto* r = Add("deadlines").mutable_escalation_raised();
    r->set_deadline_id(absl::StrCat(kCase, "/", id, "/accept"));
    r->set_from_node(std::string(responsible));
    r->set_to_node(kJustice);
    r->set_level(1);
    return seq;
  }
  uint64_t Clear(absl::string_view by, absl::string_view id) {
    auto* c = Add(by).mutable_deadline_cleared();
    c->set_deadline_id(absl::StrCat(kCase, "/", id, "/accept"));
    c->set_reason("met");
    return Last();
  }
  uint64_t Convene(absl::string_view by, absl::string_view title) {
    auto* m = Add(by).mutable_meeting_convened();
    m->set_meeting_id(absl::StrCat(kCase, "/m1"));
    m->set_kind(v1::MEETING_KIND_JOINT_CONFERENCE);
    m->set_title(std::string(title));
    return Last();
  }
  uint64_t Invite(absl::string_view by, absl::string_view invitee, absl::string_view node) {
    auto* i = Add(by).mutable_meeting_participant_invited();
    i->set_meeting_id(absl::StrCat(kCase, "/m1"));
    i->mutable_invitee()->set_invitee_id(std::string(invitee));
    i->mutable_invitee()->set_node(std::string(node));
    return Last();
  }
  uint64_t Held(absl::string_view by, std::vector<std::string> attended) {
    auto* h = Add(by).mutable_meeting_held();
    h->set_meeting_id(absl::StrCat(kCase, "/m1"));
    for (auto& a : attended) h->add_attended(a);
    return Last();
  }

  const std::vector<v1::Event>& events() const { return events_; }
  std::string Svg(const TraceSvgOptions& options = {}) const { return TraceSvg(events_, options); }

 private:
  std::vector<v1::Event> events_;
};

// The demo's shape: intake at justice, a referral to labour inspection that
// is redirected to arbitration, a joint conference, a late acceptance.
Scene FullScene() {
  Scene s;
  s.Open();
  s.Refer(kJustice, kInspection, "r1");
  s.SetDeadline(kJustice, "r1", kInspection);
  s.Breach("r1", kInspection);
  s.Redirect(kInspection, "r1", kArbitration, "r2");
  s.Clear(kInspection, "r1");
  s.Convene(kJustice, "联席会商");
  s.Invite(kJustice, "i1", kArbitration);
  s.Held(kJustice, {"i1"});
  s.Accept(kArbitration, "r2");
  return s;
}

// ------------------------------------------------------------------ tests

TEST(TraceSvg, IsOneWellFormedSvgDocumentWithTitleAndLegend) {
  const std::string svg = FullScene().Svg();
  EXPECT_EQ(XmlProblem(svg), "");
  EXPECT_TRUE(absl::StartsWith(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr(absl::StrCat("<title>案件 ", kCase,
                                          " 办理轨迹 case trace · 项目欠薪</title>")));
  EXPECT_THAT(svg, HasSubstr("font-family=\"Noto Sans CJK SC, WenQuanYi Zen Hei, sans-serif\""));
  EXPECT_THAT(Groups(svg, "<g class=\"legend\""), SizeIs(1));
  // Every event has its group, with the time in Asia/Shanghai at the left.
  EXPECT_THAT(Groups(svg, "<g class=\"event"), SizeIs(FullScene().events().size()));
  EXPECT_THAT(svg, HasSubstr(">2026-05-06 09:00:00<"));
  EXPECT_THAT(svg, HasSubstr(">+37m00s<"));
}

TEST(TraceSvg, NoEventsIsStillAPicture) {
  const std::string svg = TraceSvg({}, {});
  EXPECT_EQ(XmlProblem(svg), "");
  EXPECT_THAT(LaneKeys(svg), IsEmpty());
}

TEST(TraceSvg, LanesAreTheAgenciesInTheCaseInTheFixedOrderAndColour) {
  Scene s;
  s.Add(kUnion).mutable_case_note_recorded()->set_note("工会介入");
  s.Open();
  s.Refer(kJustice, kInspection, "r1");
  const std::string svg = s.Svg();
  // Union came first in time but its lane is after justice and inspection;
  // agencies the case never touched get no lane.
  EXPECT_THAT(LaneKeys(svg), ElementsAre("justice", "labor_inspection", "union"));
  for (const std::string& g : Groups(svg, "<g class=\"lane\"")) {
    const Term<v1::NodeKind>* kind = FindTerm(NodeKinds(), absl::string_view(Attr(g, "data-lane")));
    ASSERT_NE(kind, nullptr);
    const LaneStyle& lane = *std::find_if(
        Lanes().begin(), Lanes().end(), [&](const LaneStyle& l) { return l.kind == kind->value; });
    EXPECT_THAT(g, HasSubstr(absl::StrCat("fill=\"", lane.colour, "\""))) << g;
    EXPECT_THAT(g, HasSubstr(absl::StrCat(">", lane.zh, "<")));
  }
  EXPECT_EQ(Attr(EventGroup(svg, 1), "data-lane"), "union");
  EXPECT_EQ(Attr(EventGroup(svg, 3), "data-lane"), "justice");
}

TEST(TraceSvg, TheLaneTableIsTheSevenKindsInOrderWithDistinctColours) {
  ASSERT_THAT(Lanes(), SizeIs(NodeKinds().size()));
  std::vector<std::string> zh, colours;
  for (const LaneStyle& l : Lanes()) {
    zh.push_back(std::string(l.zh));
    colours.push_back(std::string(l.colour));
    EXPECT_NE(l.colour, kOverdueColour);
  }
  EXPECT_THAT(zh, ElementsAre("司法局", "劳动保障监察", "劳动人事争议仲裁院", "信访局", "住建局",
                              "工会", "检察院"));
  std::sort(colours.begin(), colours.end());
  EXPECT_EQ(std::unique(colours.begin(), colours.end()), colours.end());
}

TEST(KindOfNode, FromTheDirectoryElseFromTheName) {
  TraceSvgOptions o;
  EXPECT_EQ(KindOfNode("qinzhou.labor-inspection", o), v1::NODE_KIND_LABOR_INSPECTION);
  EXPECT_EQ(KindOfNode("qinzhou.justice.maiji", o), v1::NODE_KIND_JUSTICE);
  EXPECT_EQ(KindOfNode("qinzhou.procuratorate", o), v1::NODE_KIND_PROCURATORATE);
  EXPECT_EQ(KindOfNode("deadlines", o), v1::NODE_KIND_UNSPECIFIED);
  o.nodes["qinzhou.legal-aid-centre"] = {v1::NODE_KIND_JUSTICE, "秦州区法律援助中心"};
  o.nodes["qinzhou.housing"] = {v1::NODE_KIND_UNION, ""};  // the directory wins
  EXPECT_EQ(KindOfNode("qinzhou.legal-aid-centre", o), v1::NODE_KIND_JUSTICE);
  EXPECT_EQ(KindOfNode("qinzhou.housing", o), v1::NODE_KIND_UNION);
}

TEST(TraceSvg, DirectoryNamesLabelTheSteps) {
  Scene s;
  s.Open();
  s.Add("qinzhou.legal-aid-centre").mutable_case_note_recorded()->set_note("受理法援");
  TraceSvgOptions o;
  o.nodes["qinzhou.legal-aid-centre"] = {v1::NODE_KIND_JUSTICE, "秦州区法律援助中心"};
  const std::string svg = s.Svg(o);
  EXPECT_EQ(Attr(EventGroup(svg, 2), "data-lane"), "justice");
  EXPECT_THAT(EventGroup(svg, 2), HasSubstr(">秦州区法律援助中心<"));
  // Without the directory the node has no known kind: the other lane.
  EXPECT_EQ(Attr(EventGroup(s.Svg(), 2), "data-lane"), "other");
  EXPECT_THAT(LaneKeys(s.Svg()), ElementsAre("justice", "other"));
}

TEST(TraceSvg, OneArrowPerReferralLabelledWithItsKindBetweenTheRightLanes) {
  const std::string svg = FullScene().Svg();
  const std::vector<std::string> arrows = Groups(svg, "<g class=\"arrow referral");
  // r2's own ReferralRequested (appended with the redirect) adds no arrow.
  ASSERT_THAT(arrows, SizeIs(2));
  EXPECT_EQ(Attr(arrows[0], "data-referral"), absl::StrCat(kCase, "/r1"));
  EXPECT_EQ(Attr(arrows[0], "data-from"), "justice");
  EXPECT_EQ(Attr(arrows[0], "data-to"), "labor_inspection");
  EXPECT_THAT(arrows[0], HasSubstr(">转出 r1</text>"));
  EXPECT_EQ(Attr(arrows[1], "data-referral"), absl::StrCat(kCase, "/r2"));
  EXPECT_EQ(Attr(arrows[1], "data-from"), "labor_inspection");
  EXPECT_EQ(Attr(arrows[1], "data-to"), "arbitration");
  EXPECT_THAT(arrows[1], HasSubstr(">再转 r2</text>"));
  // The escalation is its own (dashed) arrow to the supervisor.
  const std::vector<std::string> escalations = Groups(svg, "<g class=\"arrow escalation");
  ASSERT_THAT(escalations, SizeIs(1));
  EXPECT_EQ(Attr(escalations[0], "data-from"), "labor_inspection");
  EXPECT_EQ(Attr(escalations[0], "data-to"), "justice");
}

TEST(TraceSvg, AnArrowReachesALaneOnlyTheReferralNames) {
  Scene s;
  s.Open();
  s.Refer(kJustice, "qinzhou.procuratorate", "r1");
  EXPECT_THAT(LaneKeys(s.Svg()), ElementsAre("justice", "procuratorate"));
}

TEST(TraceSvg, AMeetingIsABandAcrossExactlyTheConvenerAndInvitedLanes) {
  Scene s;
  s.Open();
  s.Refer(kJustice, kArbitration, "r1");
  const uint64_t convened = s.Convene(kJustice, "欠薪联席会商");
  s.Invite(kJustice, "i1", kInspection);
  s.Invite(kJustice, "i2", kHousing);
  const uint64_t held = s.Held(kJustice, {"i1", "i2"});
  const uint64_t after = s.Accept(kArbitration, "r1");
  const std::string svg = s.Svg();
  EXPECT_EQ(XmlProblem(svg), "");
  EXPECT_THAT(LaneKeys(svg), ElementsAre("justice", "labor_inspection", "arbitration", "housing"));

  const std::vector<std::string> bands = Groups(svg, "<g class=\"meeting\"");
  ASSERT_THAT(bands, SizeIs(1));
  EXPECT_EQ(Attr(bands[0], "data-lanes"), "justice labor_inspection housing");
  EXPECT_THAT(bands[0], HasSubstr("会议 欠薪联席会商"));
  // Arbitration sits between inspection and housing and was not invited: the
  // band skips it.
  std::vector<std::string> rects;
  for (const std::string& r : Groups(bands[0], "<rect")) rects.push_back(Attr(r, "data-lanes"));
  EXPECT_THAT(rects, ElementsAre("justice labor_inspection", "housing"));
  // From the row it was convened to the row it was held.
  const std::string rect = bands[0].substr(bands[0].find("<rect"));
  const int y = std::stoi(Attr(rect, "y")), h = std::stoi(Attr(rect, "height"));
  EXPECT_LT(y, DotY(svg, convened));
  EXPECT_GT(y + h, DotY(svg, held));
  EXPECT_GT(DotY(svg, after), y + h);
}

TEST(TraceSvg, ALaneThatDidNotAttendIsOutlinedNotFilled) {
  Scene s;
  s.Open();
  s.Convene(kJustice, "调解会");
  s.Invite(kJustice, "i1", kInspection);
  s.Invite(kJustice, "i2", kHousing);
  s.Held(kJustice, {"i1"});
  const std::string band = Groups(s.Svg(), "<g class=\"meeting\"").at(0);
  std::vector<std::string> opacity;
  for (const std::string& r : Groups(band, "<rect")) {
    opacity.push_back(absl::StrCat(Attr(r, "data-lanes"), "=", Attr(r, "fill-opacity")));
  }
  EXPECT_THAT(opacity, ElementsAre("justice labor_inspection=0.22", "housing=0"));
}

TEST(TraceSvg, BreachedStepsAreRedAndStepsMetInTimeAreNot) {
  Scene s;
  const uint64_t opened = s.Open();
  const uint64_t late_sent = s.Refer(kJustice, kInspection, "r1");
  s.SetDeadline(kJustice, "r1", kInspection);
  const uint64_t sent = s.Refer(kJustice, kHousing, "r2");
  s.SetDeadline(kJustice, "r2", kHousing);
  const uint64_t accepted = s.Accept(kHousing, "r2");
  const uint64_t cleared = s.Clear(kHousing, "r2");
  const uint64_t breached = s.Breach("r1", kInspection);
  const uint64_t escalated = breached + 1;
  const uint64_t late_accepted = s.Accept(kInspection, "r1");
  const uint64_t late_cleared = s.Clear(kInspection, "r1");
  const std::string svg = s.Svg();

  for (uint64_t seq : {late_sent, breached, escalated, late_accepted, late_cleared}) {
    const std::string g = EventGroup(svg, seq);
    EXPECT_TRUE(IsRed(g)) << "#" << seq << " should be red:\n" << g;
    EXPECT_EQ(Attr(g, "class"), "event overdue");
    EXPECT_THAT(g, HasSubstr("超期"));
  }
  // The negative control: r2 met its deadline.
  for (uint64_t seq : {opened, sent, accepted, cleared}) {
    const std::string g = EventGroup(svg, seq);
    EXPECT_FALSE(IsRed(g)) << "#" << seq << " should not be red:\n" << g;
    EXPECT_EQ(Attr(g, "class"), "event");
    EXPECT_THAT(g, Not(HasSubstr("超期")));
  }
  // The timer's events sit in the lane of the node that was late, not in a
  // lane of their own.
  EXPECT_EQ(Attr(EventGroup(svg, breached), "data-lane"), "labor_inspection");
  EXPECT_THAT(LaneKeys(svg), ElementsAre("justice", "labor_inspection", "housing"));
  const std::vector<std::string> arrows = Groups(svg, "<g class=\"arrow referral");
  ASSERT_THAT(arrows, SizeIs(2));
  EXPECT_TRUE(IsRed(arrows[0]));
  EXPECT_FALSE(IsRed(arrows[1]));
}

TEST(TraceSvg, ChineseTextIsKeptAndEverythingIsEscaped) {
  Scene s;
  s.Open("欠薪<&>\"'案");
  s.Refer(kJustice, kInspection, "r1");
  s.Convene(kJustice, "<会议 & 协调>");
  s.Add(kJustice).mutable_case_note_recorded()->set_note("控制\x01字符");
  const std::string svg = s.Svg();
  EXPECT_EQ(XmlProblem(svg), "");
  EXPECT_THAT(svg, HasSubstr("<title>案件 qinzhou.justice:2026-000001 办理轨迹 case trace · "
                             "欠薪&lt;&amp;&gt;&quot;&apos;案</title>"));
  EXPECT_THAT(svg, HasSubstr("会议 &lt;会议 &amp; 协调&gt;"));
  EXPECT_THAT(svg, Not(HasSubstr("<&>")));
  EXPECT_THAT(svg, HasSubstr(">劳动保障监察<"));
  EXPECT_THAT(svg, HasSubstr(">转出 r1</text>"));
  EXPECT_THAT(svg, HasSubstr(">立案<"));  // CaseOpened's label in EventKinds()
  EXPECT_THAT(svg, HasSubstr("控制字符"));
}

TEST(XmlEscape, EscapesMarkupAndDropsWhatXmlForbids) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(XmlEscape("劳动\x01保障\t监察\n"), "劳动保障\t监察\n");
}

TEST(TraceSvg, SameEventsGiveTheSameBytes) {
  const Scene s = FullScene();
  const std::vector<v1::Event> copy = s.events();
  EXPECT_EQ(s.Svg(), TraceSvg(copy, {}));
  EXPECT_EQ(s.Svg(), s.Svg());
}

TEST(TraceSvg, LongTextIsCutToItsLaneAndKeptWholeInTheHoverTitle) {
  Scene s;
  s.Open();
  const std::string note(200, 'x');
  s.Add(kJustice).mutable_case_note_recorded()->set_note(note);
  const std::string g = EventGroup(s.Svg(), 2);
  EXPECT_THAT(g, HasSubstr(note + "</title>"));
  EXPECT_THAT(g, HasSubstr("x…</text>"));
}

}  // namespace
}  // namespace referral::refctl
