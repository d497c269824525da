#pragma once
// Presentation of catalogue entries for `mbx explain`: the summary row and the full page.

#include "mbx/core/output.hpp"
#include "mbx/ops/catalogue.hpp"

#include <ostream>
#include <vector>

namespace mbx::explain {

/// Columns code, symbol, title, command (the entry's first command, "-" when none).
out::ReportSpec summary_spec();
std::vector<out::Cell> summary_row(const ops::catalogue::MisCode& code);

/// The full entry for people: device message, causes, numbered resolution, commands with
/// "(planned)" for those not shipped yet. Long lines wrap at 96 columns.
void write_page(std::ostream& os, const ops::catalogue::MisCode& code);

} // namespace mbx::explain
