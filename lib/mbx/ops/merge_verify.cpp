// mbx merge: verification. Both sides scanned again, every selected source message paired or
// counted missing; changed copies explained, missing ones named.
#include "mbx/ops/merge_impl.hpp"
#include "mbx/ops/actions.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <iterator>
#include <thread>
#include <tuple>

namespace mbx::ops::merge::detail {

// How a copy's header differs from its source's: "header added: X-Name" (the first field the
// target has and the source has not), "header rewritten", or "body changed" (equal headers).
std::string describe_change(std::string_view source, std::string_view target) {
    auto names = [](std::string_view header) {
        std::multiset<std::string> out;
        for (std::size_t pos = 0; pos < header.size();) {
            std::size_t eol = header.find('\n', pos);
            if (eol == std::string_view::npos) eol = header.size();
            std::string_view line = header.substr(pos, eol - pos);
            pos = eol + 1;
            const auto colon = line.find(':');
            if (line.empty() || line.front() == ' ' || line.front() == '\t' || colon == std::string_view::npos)
                continue;
            out.insert(ascii_lower(trim(line.substr(0, colon))));
        }
        return out;
    };
    const auto from = names(source), to = names(target);
    std::vector<std::string> added;
    std::set_difference(to.begin(), to.end(), from.begin(), from.end(), std::back_inserter(added));
    if (!added.empty()) return "header added: " + added.front();
    if (source == target) return "body changed";
    return "header rewritten";
}

void Merger::explain(FolderState& st) {
    if (st.resized_pairs.empty()) return;
    std::vector<std::uint64_t> source_uids, target_uids;
    for (const auto& [s, t] : st.resized_pairs) {
        source_uids.push_back(s);
        target_uids.push_back(t);
    }
    std::map<std::uint64_t, std::string> source_headers, target_headers;
    auto header_of = [](imap::FetchItem& f) {
        for (auto& [name, value] : f.sections)
            if (name.starts_with("BODY[HEADER") && value) return std::move(*value);
        return std::string();
    };
    imap::uid_fetch(*src_, imap::uid_set_of(source_uids), "(UID BODY.PEEK[HEADER])", [&](imap::FetchItem& f) {
        if (f.uid) source_headers[*f.uid] = header_of(f);
    });
    imap::uid_fetch(*dst_, imap::uid_set_of(target_uids), "(UID BODY.PEEK[HEADER])", [&](imap::FetchItem& f) {
        if (f.uid) target_headers[*f.uid] = header_of(f);
    });
    auto& how = st.result.normalised_how;
    for (const auto& [s, t] : st.resized_pairs) ++how[describe_change(source_headers[s], target_headers[t])];
    if (st.resized > st.resized_pairs.size()) how["not examined"] += st.resized - st.resized_pairs.size();
}

// The missing messages by name: Message-ID, date and subject from the source (the first
// kMaxNamedMissing of a folder). The source folder is selected by the scan.
void Merger::name_missing(FolderState& st) {
    if (st.todo.empty()) return;
    std::vector<std::uint64_t> uids;
    for (const auto& t : st.todo) {
        if (uids.size() >= kMaxNamedMissing) break;
        uids.push_back(t.uid);
    }
    imap::uid_fetch(*src_, imap::uid_set_of(uids), "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE SUBJECT)])",
                    [&](imap::FetchItem& f) {
                        if (!f.uid) return;
                        std::string header;
                        for (const auto& [name, value] : f.sections)
                            if (name.starts_with("BODY[HEADER") && value) header = *value;
                        result_.missing_messages.push_back({.folder = st.result.plan.source,
                                                            .uid = *f.uid,
                                                            .message_id = message_id_of(header),
                                                            .date = header_value(header, "Date").value_or(""),
                                                            .subject = header_value(header, "Subject").value_or("")});
                    });
}

void Merger::verify() {
    result_.missing_messages.clear();
    for (auto& st : folders_) {
        if (st.result.status == FolderStatus::failed) continue;
        session_.throw_if_stopped();
        progress_.update("verify " + st.result.plan.source, 0, 0);
        try {
            scan_folder(st, false);
        } catch (const Error& e) {
            if (!folder_error(e)) throw;
            st.result.error = "cannot verify: " + e.one_line();
            st.result.status = FolderStatus::incomplete;
            connect();
            continue;
        }
        st.result.missing = st.todo.size();
        st.result.normalised = st.resized;
        st.result.extra = st.extra;
        st.result.normalised_how.clear();
        explain(st);
        name_missing(st);
    }
    if (journal_) {
        json folders = json::array();
        std::uint64_t missing = 0, normalised = 0;
        for (const auto& st : folders_) {
            folders.push_back({{"source", st.result.plan.source},
                               {"target", st.result.plan.target},
                               {"missing", st.result.missing.value_or(0)},
                               {"normalised", st.result.normalised.value_or(0)},
                               {"extra", st.result.extra.value_or(0)},
                               {"normalised_how", st.result.normalised_how}});
            missing += st.result.missing.value_or(0);
            normalised += st.result.normalised.value_or(0);
        }
        json named = json::array();
        for (const auto& m : result_.missing_messages)
            named.push_back({{"folder", m.folder},
                             {"uid", m.uid},
                             {"message_id", m.message_id},
                             {"date", m.date},
                             {"subject", m.subject}});
        journal_->add_action(run_id_, {.kind = kind::kMergeVerify,
                                       .subject = pair(),
                                       .after = json{{"missing", missing},
                                                     {"normalised", normalised},
                                                     {"folders", std::move(folders)},
                                                     {"missing_messages", std::move(named)}},
                                       .status = journal::ActionStatus::done});
    }
}

} // namespace mbx::ops::merge::detail
