// The sinks monitoring systems read: Nagios plugin output and Prometheus textfile format.
#include "mbx/core/output_sinks.hpp"
#include "mbx/core/text.hpp"

#include <chrono>
#include <fmt/format.h>
#include <map>

namespace mbx::out {
namespace {

// The label of a row: its label columns joined with '/', e.g. "alice" or "alice/INBOX".
std::string row_label(const ReportSpec& spec, std::span<const Cell> cells) {
    std::string label;
    for (std::size_t i = 0; i < cells.size(); ++i)
        if (spec.columns[i].role == Role::label) label += (label.empty() ? "" : "/") + plain_text(cells[i]);
    return label;
}

// Nagios plugin guidelines: "SERVICE STATUS - text | perfdata", long text on later lines.
// Perfdata labels are quoted; a single quote inside is doubled; '=' is not allowed in labels.
std::string perf_label(std::string_view s) {
    std::string r;
    for (char c : printable(s)) {
        if (c == '=') c = '_';
        if (c == '\'') r += '\'';
        r += c;
    }
    return "'" + r + "'";
}

std::string_view perf_unit(Kind k) { return k == Kind::bytes ? "B" : k == Kind::percent ? "%" : ""; }

class NagiosSink final : public Sink {
public:
    explicit NagiosSink(std::ostream& out) : out_(out) {}
    void begin(const ReportSpec& spec) override { spec_ = spec; }

    // Per-row perfdata only for small reports (one user's check): a 100,000-user sweep in
    // one perfdata line would overflow every Nagios buffer. Long text lists rows not ok.
    void row(std::span<const Cell> cells) override {
        check_row_width(spec_, cells);
        ++rows_;
        std::string label = row_label(spec_, cells);
        std::string state = "ok";
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const Column& c = spec_.columns[i];
            if (c.role == Role::status) state = plain_text(cells[i]);
            auto v = numeric_value(cells[i]);
            if (c.role == Role::value && v && rows_ <= kMaxPerfRows)
                perf_ +=
                    fmt::format(" {}={}{}", perf_label(label + "_" + c.key), plain_text(cells[i]), perf_unit(c.kind));
        }
        if (state != "ok" && long_text_.size() < kMaxLongLines)
            long_text_.push_back(fmt::format("{}: {}", ascii_upper(state), printable(describe(cells))));
    }

    void finish(const Summary& summary) override {
        std::string perf;
        for (const auto& [key, value] : summary.fields)
            if (numeric_value(value)) perf += fmt::format(" {}={}", perf_label(key), plain_text(value));
        if (rows_ <= kMaxPerfRows) perf += perf_;
        out_ << "MBX " << ascii_upper(spec_.name) << ' ' << ascii_upper(status_word(summary.status)) << " - "
             << printable(summary.text);
        if (!perf.empty()) out_ << " |" << perf;
        out_ << '\n';
        for (const auto& l : long_text_) out_ << l << '\n';
    }

private:
    static constexpr std::size_t kMaxPerfRows = 20;
    static constexpr std::size_t kMaxLongLines = 100;

    std::string describe(std::span<const Cell> cells) const {
        std::string d;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (spec_.columns[i].role == Role::status) continue;
            d += (d.empty() ? "" : " ") + spec_.columns[i].key + "=" + plain_text(cells[i]);
        }
        return d;
    }

    std::ostream& out_;
    ReportSpec spec_;
    std::size_t rows_ = 0;
    std::string perf_;
    std::vector<std::string> long_text_;
};

// Prometheus text exposition format 0.0.4: label values escape \ " and newline.
std::string label_value(std::string_view s) {
    std::string r;
    for (char c : s) {
        if (c == '\\' || c == '"') r += '\\';
        if (c == '\n') {
            r += "\\n";
            continue;
        }
        r += c;
    }
    return r;
}

std::string metric_name(std::string_view s) {
    std::string r;
    for (char c : s) r += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return r;
}

int state_number(std::string_view state) {
    return state == "ok" ? 0 : state == "warning" ? 1 : state == "critical" ? 2 : 3;
}

// The format wants every sample of a metric in one group after its HELP/TYPE lines, so
// samples are kept per metric (one short line each) and written at finish().
class PrometheusSink final : public Sink {
public:
    explicit PrometheusSink(std::ostream& out) : out_(out) {}
    void begin(const ReportSpec& spec) override {
        spec_ = spec;
        prefix_ = "mbx_" + metric_name(spec_.name) + "_";
    }
    void row(std::span<const Cell> cells) override {
        check_row_width(spec_, cells);
        std::string labels;
        for (std::size_t i = 0; i < cells.size(); ++i)
            if (spec_.columns[i].role == Role::label)
                labels += fmt::format("{}{}=\"{}\"", labels.empty() ? "" : ",", metric_name(spec_.columns[i].key),
                                      label_value(plain_text(cells[i])));
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const Column& c = spec_.columns[i];
            std::optional<double> v = numeric_value(cells[i]);
            if (c.role == Role::status) v = state_number(plain_text(cells[i]));
            if ((c.role != Role::value && c.role != Role::status) || !v) continue;
            auto& m = metric(c.role == Role::status ? "state" : c.key,
                             c.role == Role::status ? "row state: 0 ok, 1 warning, 2 critical, 3 unknown" : c.help);
            m.samples += fmt::format("{}{}{{{}}} {}\n", prefix_, m.name, labels, plain_text(*v));
        }
    }
    void finish(const Summary& summary) override {
        for (const auto& [key, value] : summary.fields)
            if (auto v = numeric_value(value))
                metric(key, "").samples += fmt::format("{}{} {}\n", prefix_, metric_name(key), plain_text(*v));
        metric("exit_code", "exit code of the run (docs/exit-codes.md)").samples +=
            fmt::format("{}exit_code {}\n", prefix_, static_cast<int>(summary.status));
        auto now =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        metric("last_run_timestamp_seconds", "when the run finished (Unix time)").samples +=
            fmt::format("{}last_run_timestamp_seconds {}\n", prefix_, now.count());
        for (const auto& name : order_) {
            const auto& m = metrics_.at(name);
            if (!m.help.empty()) out_ << "# HELP " << prefix_ << m.name << ' ' << printable(m.help) << '\n';
            out_ << "# TYPE " << prefix_ << m.name << " gauge\n" << m.samples;
        }
    }

private:
    struct Metric {
        std::string name, help, samples;
    };
    Metric& metric(const std::string& key, const std::string& help) {
        auto [it, inserted] = metrics_.try_emplace(key, Metric{metric_name(key), help, {}});
        if (inserted) order_.push_back(key);
        return it->second;
    }

    std::ostream& out_;
    ReportSpec spec_;
    std::string prefix_;
    std::map<std::string, Metric> metrics_;
    std::vector<std::string> order_;
};

} // namespace

std::unique_ptr<Sink> make_nagios_sink(std::ostream& out) { return std::make_unique<NagiosSink>(out); }
std::unique_ptr<Sink> make_prometheus_sink(std::ostream& out) { return std::make_unique<PrometheusSink>(out); }

} // namespace mbx::out
