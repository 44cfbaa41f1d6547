#include "services/referral/privacy.h"

#include <array>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "common/errors.h"

namespace referral::broker {
namespace {

constexpr std::array<SightRule, 4> kSight = {{
    {Reader::kInvestigator, true, v1::ACCESS_ROLE_INVESTIGATOR,
     "an investigator reading with a purpose"},
    {Reader::kOwner, true, v1::ACCESS_ROLE_OWNER, "the owning node"},
    {Reader::kWorkingAddressee, true, v1::ACCESS_ROLE_WORKING_ADDRESSEE,
     "the addressee of a referral of the case it is working on"},
    {Reader::kOtherParty, false, v1::ACCESS_ROLE_UNSPECIFIED,
     "any other party (a sender, an addressee that has not accepted or has "
     "finished, an invited or escalated-to node)"},
}};

constexpr std::array<v1::ReferralState, 3> kWorking = {
    v1::REFERRAL_STATE_ACCEPTED, v1::REFERRAL_STATE_IN_PROGRESS,
    v1::REFERRAL_STATE_ON_HOLD};

constexpr std::array<MaskRule, 2> kMasks = {{
    {"id_number", 3, 2, "620*************34"},
    {"contact", 3, 4,
     "a telephone number keeps 3 + 4 digits (139****5678); anything else (an "
     "address) is hidden whole"},
}};

const MaskRule& MaskOf(absl::string_view field) {
  for (const MaskRule& m : kMasks) {
    if (m.field == field) return m;
  }
  return kMasks[0];  // unreachable: both callers name a row
}

// What becomes of something that cannot be masked in part.
constexpr absl::string_view kHidden = "***";

bool IsAscii(absl::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// A telephone number: digits with the usual separators, 7 digits or more.
bool IsPhoneShaped(absl::string_view s) {
  int digits = 0;
  for (char c : s) {
    if (absl::ascii_isdigit(c)) {
      ++digits;
    } else if (c != '+' && c != '-' && c != ' ' && c != '(' && c != ')') {
      return false;
    }
  }
  return digits >= 7;
}

template <typename Visit>
void WalkParties(const google::protobuf::Message& m, const Visit& visit) {
  if (m.GetDescriptor() == v1::Party::descriptor()) {
    visit(static_cast<const v1::Party&>(m));
    return;
  }
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        WalkParties(r->GetRepeatedMessage(m, f, i), visit);
      }
    } else {
      WalkParties(r->GetMessage(m, f), visit);
    }
  }
}

template <typename Visit>
void WalkMutableParties(google::protobuf::Message* m, const Visit& visit) {
  if (m->GetDescriptor() == v1::Party::descriptor()) {
    visit(static_cast<v1::Party*>(m));
    return;
  }
  const google::protobuf::Reflection* r = m->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(*m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(*m, f); ++i) {
        WalkMutableParties(r->MutableRepeatedMessage(m, f, i), visit);
      }
    } else {
      WalkMutableParties(r->MutableMessage(m, f), visit);
    }
  }
}

absl::Status BadId(absl::string_view field, absl::string_view what,
                   absl::string_view zh) {
  return MakeError(ErrorReason::kInvalidField, absl::StrCat(field, ": ", what),
                   std::string(zh), {.field = std::string(field)});
}

}  // namespace

absl::Span<const SightRule> SightTable() { return kSight; }

const SightRule& SightOf(Reader reader) {
  for (const SightRule& r : kSight) {
    if (r.reader == reader) return r;
  }
  return kSight.back();  // unreachable: every Reader has a row (privacy_test)
}

absl::Span<const v1::ReferralState> WorkingStates() { return kWorking; }

Reader ReaderOf(absl::string_view caller, const CaseProjection& c,
                bool as_investigator) {
  if (as_investigator) return Reader::kInvestigator;
  if (c.state().opened().owning_node() == caller) return Reader::kOwner;
  for (const v1::Referral& r : c.state().referrals()) {
    if (r.to_node() != caller) continue;
    for (v1::ReferralState s : kWorking) {
      if (r.state() == s) return Reader::kWorkingAddressee;
    }
  }
  return Reader::kOtherParty;
}

absl::Span<const MaskRule> MaskTable() { return kMasks; }

std::string MaskIdNumber(absl::string_view id) {
  const MaskRule& m = MaskOf("id_number");
  if (!IsAscii(id)) return std::string(kHidden);
  std::string out(id);
  if (static_cast<int>(out.size()) <= m.keep_first + m.keep_last) {
    return std::string(out.size(), '*');
  }
  for (size_t i = m.keep_first; i + m.keep_last < out.size(); ++i) out[i] = '*';
  return out;
}

std::string MaskContact(absl::string_view contact) {
  if (contact.empty()) return "";
  if (!IsPhoneShaped(contact)) return std::string(kHidden);
  const MaskRule& m = MaskOf("contact");
  int total = 0;
  for (char c : contact) total += absl::ascii_isdigit(c) ? 1 : 0;
  std::string out(contact);
  int seen = 0;
  for (char& c : out) {
    if (!absl::ascii_isdigit(c)) continue;
    ++seen;
    if (seen > m.keep_first && seen <= total - m.keep_last) c = '*';
  }
  return out;
}

void MaskPersonalData(google::protobuf::Message* message) {
  WalkMutableParties(message, [](v1::Party* p) {
    if (!p->contact().empty()) p->set_contact(MaskContact(p->contact()));
    if (!p->id_number().empty()) p->set_id_number(MaskIdNumber(p->id_number()));
  });
}

std::vector<std::string> PersonalDataFields(const google::protobuf::Message& message) {
  std::set<std::string> found;
  WalkParties(message, [&](const v1::Party& p) {
    if (!p.contact().empty()) found.insert("contact");
    if (!p.id_number().empty()) found.insert("id_number");
  });
  return {found.begin(), found.end()};
}

std::string NormalizeIdNumber(absl::string_view id) {
  std::string out(absl::StripAsciiWhitespace(id));
  if (!out.empty() && out.back() == 'x') out.back() = 'X';
  return out;
}

absl::Status ValidateIdNumber(absl::string_view id, absl::string_view field) {
  if (id.size() != 18) {
    return BadId(field,
                 absl::StrCat("an ID number has 18 characters (17 digits and a check "
                              "digit 0-9 or X); this one has ",
                              id.size(),
                              ". Old 15-digit numbers are not accepted: ask for the "
                              "number on the current card"),
                 "身份证号码应为18位（17位数字加1位校验码0-9或X），请核对证件后重新填写");
  }
  for (size_t i = 0; i < 17; ++i) {
    if (!absl::ascii_isdigit(id[i])) {
      return BadId(field,
                   absl::StrCat("characters 1-17 of an ID number are digits; character ",
                                i + 1, " is not. Re-type it from the ID card"),
                   "身份证号码前17位应为数字，请核对证件后重新填写");
    }
  }
  const char last = id[17];
  if (!absl::ascii_isdigit(last) && last != 'X' && last != 'x') {
    return BadId(field,
                 "the 18th character of an ID number is the check digit: a digit or "
                 "X. Re-type it from the ID card",
                 "身份证号码第18位为校验码，应为数字或X");
  }
  auto num = [&](size_t from, size_t n) {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) v = v * 10 + (id[i] - '0');
    return v;
  };
  const int y = num(6, 4), m = num(10, 2), d = num(12, 2);
  const absl::CivilDay day(y, m, d);
  if (y < 1900 || day.year() != y || day.month() != m || day.day() != d) {
    return BadId(field,
                 "characters 7-14 of an ID number are the birth date (YYYYMMDD) and "
                 "these are not a real date: a digit is probably mistyped. Re-type it "
                 "from the ID card",
                 "身份证号码第7-14位应为出生日期，请核对证件后重新填写");
  }
  // ISO 7064 MOD 11-2, as GB 11643-1999 specifies it.
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3,
                                       7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  int sum = 0;
  for (size_t i = 0; i < 17; ++i) sum += (id[i] - '0') * kWeights[i];
  const char expected = kCheck[sum % 11];
  if (absl::ascii_toupper(last) != expected) {
    return BadId(field,
                 "the check digit (the 18th character) does not match the first 17 "
                 "digits: one of them is probably mistyped. Re-type the number from "
                 "the ID card",
                 "身份证号码校验位不符，可能有数字录入错误，请核对证件后重新填写");
  }
  return absl::OkStatus();
}

}  // namespace referral::broker
