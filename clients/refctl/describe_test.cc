#include "clients/refctl/describe.h"

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"

namespace referral::refctl {
namespace {

using ::testing::HasSubstr;

// Every value of the enum but 0 has exactly one row, and keys are unique.
template <typename Enum>
void ExpectCovers(absl::Span<const Term<Enum>> table,
                  const google::protobuf::EnumDescriptor* d) {
  for (int i = 0; i < d->value_count(); ++i) {
    const int number = d->value(i)->number();
    if (number == 0) continue;
    EXPECT_NE(FindTerm(table, static_cast<Enum>(number)), nullptr)
        << d->value(i)->name() << " has no label";
  }
  EXPECT_EQ(table.size(), static_cast<size_t>(d->value_count() - 1)) << d->name();
  for (const auto& t : table) {
    EXPECT_EQ(FindTerm(table, t.key), &t) << t.key;
    EXPECT_FALSE(t.zh.empty());
  }
}

TEST(Vocabulary, EveryReferralEnumHasLabels) {
  ExpectCovers(ReferralStates(), v1::ReferralState_descriptor());
  ExpectCovers(Outcomes(), v1::Outcome_descriptor());
  ExpectCovers(Priorities(), v1::Priority_descriptor());
  ExpectCovers(IntakeChannels(), v1::IntakeChannel_descriptor());
  ExpectCovers(PartyRoles(), v1::PartyRole_descriptor());
  ExpectCovers(AccessRoles(), v1::AccessRole_descriptor());
}

TEST(Vocabulary, EveryEventBodyHasAKind) {
  const google::protobuf::OneofDescriptor* body =
      v1::Event::descriptor()->FindOneofByName("body");
  ASSERT_NE(body, nullptr);
  for (int i = 0; i < body->field_count(); ++i) {
    const auto* field = body->field(i);
    const auto* t = FindTerm(EventKinds(), static_cast<v1::Event::BodyCase>(field->number()));
    ASSERT_NE(t, nullptr) << field->name();
    EXPECT_EQ(t->key, field->message_type()->name());
  }
  EXPECT_EQ(EventKinds().size(), static_cast<size_t>(body->field_count()));
}

TEST(ParseTerm, AcceptsWhatPeopleType) {
  EXPECT_EQ(ParseTerm(ReferralStates(), "in_progress")->value, v1::REFERRAL_STATE_IN_PROGRESS);
  EXPECT_EQ(ParseTerm(ReferralStates(), "IN-PROGRESS")->value, v1::REFERRAL_STATE_IN_PROGRESS);
  EXPECT_EQ(ParseTerm(ReferralStates(), "REFERRAL_STATE_ON_HOLD", "REFERRAL_STATE_")->value,
            v1::REFERRAL_STATE_ON_HOLD);
  EXPECT_EQ(ParseTerm(IntakeChannels(), "walk-in")->value, v1::INTAKE_CHANNEL_WALK_IN);
  EXPECT_EQ(ParseTerm(Outcomes(), "wages_recovered")->value, v1::OUTCOME_WAGES_RECOVERED);
  EXPECT_EQ(ParseTerm(Outcomes(), "wages"), nullptr);
}

TEST(Label, ChineseThenKey) {
  EXPECT_EQ(Label(ReferralStates(), v1::REFERRAL_STATE_ACCEPTED), "已受理 accepted");
  EXPECT_EQ(Label(ReferralStates(), v1::REFERRAL_STATE_UNSPECIFIED), "-");
  EXPECT_EQ(Label(ReferralStates(), static_cast<v1::ReferralState>(99)), "? 99");
}

v1::Event At(int64_t unix_seconds, uint64_t seq) {
  v1::Event e;
  *e.mutable_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(unix_seconds);
  e.set_sequence(seq);
  e.set_source("qinzhou.justice");
  return e;
}

TEST(Summary, SaysWhatEachStepCarries) {
  v1::Event opened = At(0, 1);
  auto* o = opened.mutable_case_opened();
  o->set_title("23名农民工被拖欠工资");
  o->set_matter(v1::MATTER_WAGE_ARREARS);
  o->set_channel(v1::INTAKE_CHANNEL_HOTLINE);
  o->set_green_channel(true);
  o->set_amount_claimed_fen(46000000);
  auto* p = o->add_parties();
  p->set_role(v1::PARTY_ROLE_WORKER_GROUP);
  p->set_head_count(23);
  EXPECT_EQ(Summary(opened),
            "23名农民工被拖欠工资 · 欠薪 · 12348热线 · 绿色通道 · 23名工人 · 460,000.00 元");
  EXPECT_EQ(EventZh(opened), "立案");
  EXPECT_EQ(EventType(opened), "CaseOpened");

  v1::Event sent = At(0, 2);
  auto* r = sent.mutable_referral_requested();
  r->set_referral_id("qinzhou.justice:2026-000001/r1");
  r->set_to_node("qinzhou.labor-inspection");
  r->set_purpose("责令支付工资");
  r->set_priority(v1::PRIORITY_GREEN_CHANNEL);
  *r->mutable_due_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1796115600);  // 2026-12-01 17:00 +08
  r->add_attachments()->set_name("工资欠条");
  EXPECT_EQ(Summary(sent),
            "r1 → qinzhou.labor-inspection: 责令支付工资 · 绿色通道 · 期限 2026-12-01 17:00 · "
            "附件 工资欠条");

  v1::Event returned = At(0, 3);
  auto* ret = returned.mutable_referral_returned();
  ret->set_referral_id("c/r2");
  ret->add_missing_items("劳动合同复印件");
  ret->add_missing_items("考勤记录");
  EXPECT_EQ(Summary(returned), "r2 · 需补充 劳动合同复印件、考勤记录");

  v1::Event done = At(0, 4);
  auto* c = done.mutable_referral_completed();
  c->set_referral_id("c/r1");
  c->set_outcome(v1::OUTCOME_WAGES_RECOVERED);
  c->set_amount_recovered_fen(46000000);
  EXPECT_EQ(Summary(done), "r1 · 追回工资 · 460,000.00 元");

  v1::Event redirected = At(0, 5);
  auto* rd = redirected.mutable_referral_redirected();
  rd->set_referral_id("c/r1");
  rd->set_to_node("qinzhou.housing");
  rd->set_child_referral_id("c/r3");
  rd->set_reason("工资专户归住建");
  EXPECT_EQ(Summary(redirected), "r1 → qinzhou.housing (r3) · 工资专户归住建");

  v1::Event unknown = At(0, 6);
  unknown.set_type("referral.v1.SomethingNew");
  EXPECT_EQ(EventType(unknown), "SomethingNew");
  EXPECT_EQ(Summary(unknown), "");
}

TEST(Summary, AuditRecordsSayWhoReadWhatAndWhy) {
  v1::Event read = At(0, 1);
  auto* a = read.mutable_personal_data_accessed();
  a->set_accessor("qinzhou.procuratorate");
  a->set_role(v1::ACCESS_ROLE_INVESTIGATOR);
  a->add_fields("contact");
  a->add_fields("id_number");
  a->set_method("TraceCase");
  a->set_purpose("秦检民监〔2026〕17号");
  EXPECT_EQ(Summary(read),
            "qinzhou.procuratorate 查阅 contact、id_number · 调查机关 · TraceCase · "
            "事由 秦检民监〔2026〕17号");
  EXPECT_EQ(EventZh(read), "查阅个人信息");

  v1::Event traced = At(0, 2);
  auto* t = traced.mutable_case_traced_by_investigator();
  t->set_investigator("qinzhou.supervision");
  t->set_case_id("qinzhou.justice:2026-000001");
  t->set_method("GetCase");
  t->set_purpose("线索核查");
  EXPECT_EQ(Summary(traced),
            "qinzhou.supervision 调阅 qinzhou.justice:2026-000001 · GetCase · 事由 线索核查");

  v1::Event searched = At(0, 3);
  auto* s = searched.mutable_cases_searched_by_investigator();
  s->set_investigator("qinzhou.procuratorate");
  s->set_criteria("worker_id_number=620*************10");
  s->add_case_ids("qinzhou.justice:2026-000001");
  s->set_purpose("线索核查");
  EXPECT_EQ(Summary(searched),
            "qinzhou.procuratorate 检索 worker_id_number=620*************10 · 命中 1 件 · "
            "事由 线索核查");
}

TEST(Timeline, GapsBetweenSteps) {
  google::protobuf::RepeatedPtrField<v1::Event> events;
  *events.Add() = At(1796000000, 1);
  *events.Add() = At(1796000000 + 45, 2);
  *events.Add() = At(1796000000 + 45 + 7500, 3);
  // No time: falls back to recorded_time.
  v1::Event recorded;
  recorded.set_sequence(4);
  *recorded.mutable_recorded_time() =
      google::protobuf::util::TimeUtil::SecondsToTimestamp(1796000000 + 45 + 7500 + 86400);
  *events.Add() = recorded;
  std::vector<TimelineRow> rows = Timeline(events);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].gap, "");
  EXPECT_EQ(rows[1].gap, "+45s");
  EXPECT_EQ(rows[2].gap, "+2h05m");
  EXPECT_EQ(rows[3].gap, "+1d00h");
  EXPECT_EQ(rows[0].seq, "1");
  EXPECT_EQ(rows[0].node, "qinzhou.justice");
  EXPECT_THAT(rows[0].time, HasSubstr("2026-"));
}

}  // namespace
}  // namespace referral::refctl
