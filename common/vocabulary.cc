#include "common/vocabulary.h"

#include <array>

namespace referral {

absl::Span<const Term<v1::NodeKind>> NodeKinds() {
  static constexpr std::array<Term<v1::NodeKind>, 7> kTable = {{
      {v1::NODE_KIND_JUSTICE, "justice", "justice bureau", "司法局"},
      {v1::NODE_KIND_LABOR_INSPECTION, "labor_inspection",
       "labour security inspection", "劳动保障监察"},
      {v1::NODE_KIND_ARBITRATION, "arbitration",
       "labour dispute arbitration", "劳动人事争议仲裁院"},
      {v1::NODE_KIND_PETITION, "petition", "letters and visits office", "信访局"},
      {v1::NODE_KIND_HOUSING, "housing", "housing and construction bureau",
       "住房和城乡建设局"},
      {v1::NODE_KIND_UNION, "union", "trade union", "工会"},
      {v1::NODE_KIND_PROCURATORATE, "procuratorate", "procuratorate", "检察院"},
  }};
  return kTable;
}

absl::Span<const Term<v1::NodeLevel>> NodeLevels() {
  static constexpr std::array<Term<v1::NodeLevel>, 3> kTable = {{
      {v1::NODE_LEVEL_DISTRICT, "district", "district centre", "区中心"},
      {v1::NODE_LEVEL_TOWN, "town", "town station", "乡镇工作站"},
      {v1::NODE_LEVEL_VILLAGE, "village", "village room", "村工作室"},
  }};
  return kTable;
}

absl::Span<const Term<v1::Matter>> Matters() {
  static constexpr std::array<Term<v1::Matter>, 8> kTable = {{
      {v1::MATTER_WAGE_ARREARS, "wage_arrears", "wage arrears", "欠薪"},
      {v1::MATTER_WORK_INJURY, "work_injury", "work injury", "工伤"},
      {v1::MATTER_LABOR_CONTRACT_DISPUTE, "labor_contract_dispute",
       "labour contract dispute", "劳动合同纠纷"},
      {v1::MATTER_SOCIAL_INSURANCE, "social_insurance", "social insurance",
       "社会保险"},
      {v1::MATTER_PROJECT_PAYMENT, "project_payment",
       "project payment and wage account", "工程款与工资专户"},
      {v1::MATTER_PETITION, "petition", "petition", "信访"},
      {v1::MATTER_PROSECUTION_SUPPORT, "prosecution_support",
       "support for prosecution and evidence", "支持起诉与调查取证"},
      {v1::MATTER_LEGAL_AID, "legal_aid", "legal aid", "法律援助"},
  }};
  return kTable;
}

}  // namespace referral
