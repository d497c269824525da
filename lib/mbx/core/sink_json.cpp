// The JSON sink: one document, streamed row by row, typed values, stable keys.
//   {"report":"quota","format_version":1,"rows":[{...},...],"summary":{...}}
#include "mbx/core/output_sinks.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

namespace mbx::out {
namespace {

nlohmann::json to_json(const Cell& cell) {
    struct Visitor {
        nlohmann::json operator()(std::monostate) const { return nullptr; }
        nlohmann::json operator()(const std::string& s) const { return s; }
        nlohmann::json operator()(std::int64_t v) const { return v; }
        nlohmann::json operator()(double v) const {
            return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
        }
        nlohmann::json operator()(bool v) const { return v; }
    };
    return std::visit(Visitor{}, cell);
}

// Invalid UTF-8 from a server or a log must not abort the report: replace it (U+FFFD).
std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

class JsonSink final : public Sink {
public:
    explicit JsonSink(std::ostream& out) : out_(out) {}
    void begin(const ReportSpec& spec) override {
        spec_ = spec;
        out_ << "{\"report\":" << dump(spec_.name) << ",\"format_version\":1,\"rows\":[";
    }
    void row(std::span<const Cell> cells) override {
        check_row_width(spec_, cells);
        nlohmann::json obj = nlohmann::json::object();
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const auto* text = std::get_if<std::string>(&cells[i]);
            if (spec_.columns[i].kind == Kind::json && text) {
                // Embedded documents stay structured; text that is not JSON stays a string.
                auto parsed = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
                obj[spec_.columns[i].key] = parsed.is_discarded() ? nlohmann::json(*text) : parsed;
            } else {
                obj[spec_.columns[i].key] = to_json(cells[i]);
            }
        }
        out_ << (rows_++ ? ",\n" : "\n") << dump(obj);
    }
    void finish(const Summary& summary) override {
        nlohmann::json s = nlohmann::json::object();
        s["status"] = std::string(status_word(summary.status));
        s["exit_code"] = static_cast<int>(summary.status);
        s["text"] = summary.text;
        s["rows"] = rows_;
        for (const auto& [key, value] : summary.fields) s[key] = to_json(value);
        out_ << (rows_ ? "\n" : "") << "],\"summary\":" << dump(s) << "}\n";
    }

private:
    std::ostream& out_;
    ReportSpec spec_;
    std::size_t rows_ = 0;
};

} // namespace

std::unique_ptr<Sink> make_json_sink(std::ostream& out) { return std::make_unique<JsonSink>(out); }

} // namespace mbx::out
