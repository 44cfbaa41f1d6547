// Table renders rows as aligned text columns. Widths are measured in
// terminal cells, so Chinese (two cells a character) lines up with ASCII.

#ifndef REFERRAL_CLIENTS_REFCTL_TABLE_H_
#define REFERRAL_CLIENTS_REFCTL_TABLE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace referral::refctl {

// Terminal cells `utf8` occupies: 2 for East Asian wide characters, 1 for
// the rest.
size_t DisplayWidth(absl::string_view utf8);

class Table {
 public:
  explicit Table(std::vector<std::string> header);
  void AddRow(std::vector<std::string> row);
  // Columns separated by two spaces; the last column is not padded.
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_TABLE_H_
