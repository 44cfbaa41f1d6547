#include "common/log.h"

#include <string>

namespace referral {

void InitLogging(std::string_view program, std::string_view level) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z " + std::string(program) +
                      " %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace referral
