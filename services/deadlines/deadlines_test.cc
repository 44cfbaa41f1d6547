#include "services/deadlines/deadlines.h"

#include "common/timestamps.h"

#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace referral::deadlines {
namespace {

using google::protobuf::util::TimeUtil;

absl::Time Shanghai(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0),
                         absl::FixedTimeZone(8 * 3600));
}

absl::Time T(const google::protobuf::Timestamp& ts) { return TimeOf(ts); }

v1::Event InCase(v1::Event e, uint64_t sequence) {
  e.set_subject("qinzhou.justice:2026-000001");
  e.set_sequence(sequence);
  return e;
}

TEST(Kinds, EveryKindHasOneRowInEnumOrder) {
  auto kinds = Kinds();
  ASSERT_EQ(kinds.size(), static_cast<size_t>(v1::DeadlineKind_ARRAYSIZE));
  for (size_t i = 0; i < kinds.size(); ++i) {
    EXPECT_EQ(kinds[i].kind, static_cast<v1::DeadlineKind>(i));
    EXPECT_FALSE(kinds[i].zh.empty());
  }
  EXPECT_FALSE(RuleFor(v1::DEADLINE_KIND_MEETING_REMINDER).escalates);
  EXPECT_TRUE(RuleFor(v1::DEADLINE_KIND_INSTALMENT_PAYMENT).escalates);
}

TEST(Kinds, TheGreenChannelIsTheSameWorkingDay) {
  EXPECT_EQ(AcceptanceWorkingDays(v1::PRIORITY_GREEN_CHANNEL), 0);
  EXPECT_EQ(AcceptanceWorkingDays(v1::PRIORITY_URGENT), 1);
  EXPECT_EQ(AcceptanceWorkingDays(v1::PRIORITY_ROUTINE), 3);
}

TEST(SetDeadline, DueOnTheCalendarWithAWarningThreeQuartersOfTheWay) {
  const absl::Time now = Shanghai(2026, 11, 27, 9, 30);
  v1::Event e = SetDeadline({.kind = v1::DEADLINE_KIND_LEGAL_AID_REVIEW,
                             .deadline_id = "c/a1/review",
                             .subject_id = "c/a1",
                             .responsible_node = "qinzhou.justice"},
                            now, Calendar());
  const v1::DeadlineSet& d = e.deadline_set();
  EXPECT_EQ(T(d.due_time()), Shanghai(2026, 11, 27, 17, 30));
  EXPECT_EQ(T(d.warn_time()), Shanghai(2026, 11, 27, 15, 30));
  EXPECT_EQ(d.calendar(), "default");
  EXPECT_EQ(d.description(), "法律援助审查");
  ASSERT_EQ(e.involved_nodes_size(), 1);
  EXPECT_EQ(e.involved_nodes(0), "qinzhou.justice");
}

TEST(SetDeadline, AnExplicitDueTimeWinsAndInvolvesEveryoneConcerned) {
  const absl::Time now = Shanghai(2026, 11, 27, 9, 30);
  const absl::Time due = Shanghai(2026, 12, 31, 23, 59);
  v1::Event e = SetDeadline({.kind = v1::DEADLINE_KIND_INSTALMENT_PAYMENT,
                             .deadline_id = "c/m1/i2",
                             .subject_id = "c/m1",
                             .responsible_node = "qinzhou.justice",
                             .due_time = due,
                             .escalate_to = "qinzhou.labor"},
                            now, Calendar());
  EXPECT_EQ(T(e.deadline_set().due_time()), due);
  EXPECT_TRUE(e.deadline_set().calendar().empty());
  EXPECT_EQ(e.involved_nodes_size(), 2);
}

TEST(SetDeadline, AReminderHasNoWarning) {
  v1::Event e = SetDeadline({.kind = v1::DEADLINE_KIND_MEETING_REMINDER,
                             .deadline_id = "c/m1/remind",
                             .responsible_node = "a",
                             .due_time = absl::Now() + absl::Hours(5),
                             .notify_nodes = {"b", "c"}},
                            absl::Now(), Calendar());
  EXPECT_FALSE(e.deadline_set().has_warn_time());
  EXPECT_EQ(e.involved_nodes_size(), 3);
}

TEST(DeadlineFold, FollowsEachDeadlineThroughItsStages) {
  const absl::Time now = Shanghai(2026, 11, 27, 9, 30);
  auto set = [&](const char* id) {
    return SetDeadline({.kind = v1::DEADLINE_KIND_REFERRAL_ACCEPTANCE,
                        .deadline_id = id,
                        .responsible_node = "x"},
                       now, Calendar());
  };
  std::vector<v1::Event> events;
  events.push_back(InCase(set("met"), 1));
  events.push_back(InCase(set("late"), 2));
  events.push_back(InCase(set("open"), 3));
  events.push_back(InCase(ClearDeadline("met", "met", "x"), 4));
  v1::Event warned;
  warned.mutable_deadline_warned()->set_deadline_id("late");
  events.push_back(InCase(warned, 5));
  v1::Event breached;
  breached.mutable_deadline_breached()->set_deadline_id("late");
  events.push_back(InCase(breached, 6));
  v1::Event escalated;
  escalated.mutable_escalation_raised()->set_deadline_id("late");
  escalated.mutable_escalation_raised()->set_to_node("qinzhou.justice");
  events.push_back(InCase(escalated, 7));
  DeadlineFold f = DeadlineFold::Of(events);
  EXPECT_EQ(f.Find("met")->state(), v1::DEADLINE_STATE_MET);
  EXPECT_FALSE(f.IsOpen("met"));
  EXPECT_EQ(f.Find("late")->state(), v1::DEADLINE_STATE_BREACHED);
  EXPECT_EQ(f.Find("late")->escalated_to(), "qinzhou.justice");
  EXPECT_TRUE(f.IsOpen("late"));
  EXPECT_EQ(f.Find("open")->state(), v1::DEADLINE_STATE_PENDING);
  EXPECT_EQ(f.Find("open")->case_id(), "qinzhou.justice:2026-000001");
  EXPECT_EQ(f.Find("nope"), nullptr);
  f.Apply(InCase(ClearDeadline("late", "met", "x"), 8));
  EXPECT_EQ(f.Find("late")->state(), v1::DEADLINE_STATE_MET_LATE);
  EXPECT_FALSE(f.IsOpen("late"));
}

TEST(StageEventId, IsStablePerCaseDeadlineAndStage) {
  EXPECT_EQ(StageEventId("c1", "d", "breach"), StageEventId("c1", "d", "breach"));
  EXPECT_NE(StageEventId("c1", "d", "breach"), StageEventId("c2", "d", "breach"));
  EXPECT_NE(StageEventId("c1", "d", "breach"), StageEventId("c1", "d", "warn"));
  EXPECT_LE(StageEventId("c1", std::string(500, 'x'), "escalate").size(), 128u);
}

}  // namespace
}  // namespace referral::deadlines
