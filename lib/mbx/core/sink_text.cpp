// The sinks for people and spreadsheets: table and CSV.
#include "mbx/core/output_sinks.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace mbx::out {

std::string plain_text(const Cell& cell) {
    struct Visitor {
        std::string operator()(std::monostate) const { return {}; }
        std::string operator()(const std::string& s) const { return s; }
        std::string operator()(std::int64_t v) const { return std::to_string(v); }
        std::string operator()(double v) const {
            if (!std::isfinite(v)) return {};
            std::string s = fmt::format("{:.6f}", v);
            s.erase(s.find_last_not_of('0') + 1);
            if (!s.empty() && s.back() == '.') s.pop_back();
            return s;
        }
        std::string operator()(bool v) const { return v ? "true" : "false"; }
    };
    return std::visit(Visitor{}, cell);
}

std::optional<double> numeric_value(const Cell& cell) {
    if (auto* i = std::get_if<std::int64_t>(&cell)) return static_cast<double>(*i);
    if (auto* d = std::get_if<double>(&cell)) return std::isfinite(*d) ? std::optional(*d) : std::nullopt;
    if (auto* b = std::get_if<bool>(&cell)) return *b ? 1.0 : 0.0;
    return std::nullopt;
}

void check_row_width(const ReportSpec& spec, std::span<const Cell> cells) {
    if (cells.size() != spec.columns.size())
        throw Error(ErrorCategory::internal, fmt::format("report '{}' row has {} cells for {} columns", spec.name,
                                                         cells.size(), spec.columns.size()));
}

namespace {

// Display width in terminal columns, counting each UTF-8 code point as one (good enough for
// user names and folder names; East Asian wide characters will be one column off each).
std::size_t display_width(std::string_view s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string human_text(const Column& col, const Cell& cell) {
    if (std::holds_alternative<std::monostate>(cell)) return "-";
    if (col.kind == Kind::bytes) {
        if (auto v = numeric_value(cell)) return human_bytes(static_cast<std::int64_t>(*v));
    }
    if (col.kind == Kind::percent) {
        if (auto v = numeric_value(cell)) return fmt::format("{:.1f}%", *v);
    }
    if (col.kind == Kind::boolean) {
        if (auto* b = std::get_if<bool>(&cell)) return *b ? "yes" : "no";
    }
    return printable(plain_text(cell));
}

bool right_aligned(Kind k) { return k == Kind::integer || k == Kind::number || k == Kind::bytes || k == Kind::percent; }

class TableSink final : public Sink {
public:
    explicit TableSink(std::ostream& out) : out_(out) {}

    void begin(const ReportSpec& spec) override {
        spec_ = spec;
        widths_.clear();
        for (const auto& c : spec_.columns) widths_.push_back(display_width(c.title));
    }

    void row(std::span<const Cell> cells) override {
        check_row_width(spec_, cells);
        std::vector<std::string> texts;
        for (std::size_t i = 0; i < cells.size(); ++i) texts.push_back(human_text(spec_.columns[i], cells[i]));
        if (flushed_) {
            write_row(texts);
            return;
        }
        for (std::size_t i = 0; i < texts.size(); ++i) widths_[i] = std::max(widths_[i], display_width(texts[i]));
        buffer_.push_back(std::move(texts));
        if (buffer_.size() >= kTableBufferRows) flush();
    }

    void finish(const Summary& summary) override {
        flush();
        if (!summary.text.empty()) out_ << (rows_ ? "\n" : "") << printable(summary.text) << '\n';
    }

private:
    // Column widths come from the first kTableBufferRows rows; later rows that are wider
    // push their line out rather than making the sink hold every row (doveadm does the same).
    void flush() {
        if (flushed_) return;
        flushed_ = true;
        if (buffer_.empty()) return;
        std::vector<std::string> titles;
        for (const auto& c : spec_.columns) titles.push_back(c.title);
        write_row(titles, true);
        for (const auto& r : buffer_) write_row(r);
        buffer_.clear();
        buffer_.shrink_to_fit();
    }

    // Numeric columns are right-aligned, titles included (as df and doveadm print them).
    void write_row(const std::vector<std::string>& texts, bool header = false) {
        std::string line;
        for (std::size_t i = 0; i < texts.size(); ++i) {
            std::size_t pad = widths_[i] > display_width(texts[i]) ? widths_[i] - display_width(texts[i]) : 0;
            bool right = right_aligned(spec_.columns[i].kind);
            if (i) line += "  ";
            if (right) line.append(pad, ' ');
            line += texts[i];
            if (!right && i + 1 < texts.size()) line.append(pad, ' ');
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out_ << line << '\n';
        if (!header) ++rows_;
    }

    std::ostream& out_;
    ReportSpec spec_;
    std::vector<std::size_t> widths_;
    std::vector<std::vector<std::string>> buffer_;
    bool flushed_ = false;
    std::size_t rows_ = 0;
};

// RFC 4180 quoting, plus spreadsheet formula neutralisation: a text cell that starts with
// = + - @ TAB or CR is prefixed with ' so that opening the file cannot run a formula (OWASP
// "CSV injection"). Numbers are never altered, so negative values stay numbers.
std::string csv_field(const Cell& cell) {
    // Control characters become visible escapes: `cat report.csv` must not replay a terminal
    // escape sequence that a hostile user agent or folder name smuggled in.
    std::string s = printable(plain_text(cell));
    if (std::holds_alternative<std::string>(cell) && !s.empty() &&
        std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos)
        s.insert(s.begin(), '\'');
    if (s.find_first_of(",\"") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"') q += '"';
        q += c;
    }
    return q + '"';
}

class CsvSink final : public Sink {
public:
    explicit CsvSink(std::ostream& out) : out_(out) {}
    void begin(const ReportSpec& spec) override {
        spec_ = spec;
        std::string line;
        for (std::size_t i = 0; i < spec_.columns.size(); ++i) line += (i ? "," : "") + spec_.columns[i].key;
        out_ << line << "\r\n";
    }
    void row(std::span<const Cell> cells) override {
        check_row_width(spec_, cells);
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + csv_field(cells[i]);
        out_ << line << "\r\n";
    }
    void finish(const Summary&) override {}

private:
    std::ostream& out_;
    ReportSpec spec_;
};

} // namespace

std::unique_ptr<Sink> make_table_sink(std::ostream& out) { return std::make_unique<TableSink>(out); }
std::unique_ptr<Sink> make_csv_sink(std::ostream& out) { return std::make_unique<CsvSink>(out); }

} // namespace mbx::out
