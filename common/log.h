// Logging for every binary of the project, through spdlog. Libraries log
// through these calls; only main() configures the sink.

#ifndef REFERRAL_COMMON_LOG_H_
#define REFERRAL_COMMON_LOG_H_

#include <string_view>

#include "spdlog/spdlog.h"

namespace referral {

// Sets the process-wide log pattern with the program's name, and the level
// ("trace", "debug", "info", "warn", "error"). Call once from main().
void InitLogging(std::string_view program, std::string_view level = "info");

}  // namespace referral

#define LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
#define LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)

#endif  // REFERRAL_COMMON_LOG_H_
