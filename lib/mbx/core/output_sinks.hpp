#pragma once
// Internal: the sink implementations behind mbx::out::make_sink, and helpers they share.

#include "mbx/core/output.hpp"

#include <optional>

namespace mbx::out {

std::unique_ptr<Sink> make_table_sink(std::ostream& out);
std::unique_ptr<Sink> make_csv_sink(std::ostream& out);
std::unique_ptr<Sink> make_json_sink(std::ostream& out);
std::unique_ptr<Sink> make_nagios_sink(std::ostream& out);
std::unique_ptr<Sink> make_prometheus_sink(std::ostream& out);

/// A cell as plain text with no humanizing: integers in full, numbers with up to 6
/// significant decimals, booleans true/false, null empty.
std::string plain_text(const Cell& cell);

/// A cell as a double when it is numeric (integer, number, boolean 0/1).
std::optional<double> numeric_value(const Cell& cell);

/// Throws Error(internal) when a row does not have one cell per column: a programming error.
void check_row_width(const ReportSpec& spec, std::span<const Cell> cells);

} // namespace mbx::out
