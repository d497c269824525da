#include "mbx/ops/maildir_archive.hpp"
#include "mbx/core/text.hpp"

#include "mbx/core/error.hpp"
#include "mbx/core/fd.hpp"
#include "mbx/core/output.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace mbx::ops {
namespace {

namespace fs = std::filesystem;
using std::chrono::sys_seconds;

std::string in_quotes(std::string_view s) { return out::quoted(s); }

// "20261124T185203Z" for `t`.
std::string utc_compact(sys_seconds t) {
    const std::time_t tt = t.time_since_epoch().count();
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

// ---- the archive on disk ---------------------------------------------------------------------

Error io_error(std::string_view what, const fs::path& path, int err) {
    return Error(ErrorCategory::io, fmt::format("cannot {} {}: {}", what, in_quotes(path.string()), std::strerror(err)),
                 "make [quota] archive-dir (--quota-archive-dir) a writable directory with free space");
}

void write_all(int fd, std::string_view bytes, const fs::path& path) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw io_error("write", path, errno);
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void fsync_path(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) throw io_error("sync", path, errno);
}

} // namespace

// A Maildir holding one run's messages plus manifest.jsonl (one JSON object per message).
class MaildirArchive::Impl {
public:
    // Creates ROOT/<uid>/<run>-<time>/{tmp,new,cur} and the manifest, each fsynced.
    Impl(const fs::path& root, const std::string& uid, std::int64_t run, sys_seconds now) : now_(now) {
        const fs::path user_dir = root / archive_path_component(uid);
        dir_ = user_dir / fmt::format("{}-{}", run, utc_compact(now));
        std::error_code ec;
        fs::create_directories(user_dir, ec);
        if (ec) throw io_error("create the archive directory", user_dir, ec.value());
        if (::mkdir(dir_.c_str(), 0700) != 0) throw io_error("create the archive directory", dir_, errno);
        for (const char* sub : {"tmp", "new", "cur"})
            if (::mkdir((dir_ / sub).c_str(), 0700) != 0)
                throw io_error("create the archive directory", dir_ / sub, errno);
        const fs::path manifest = dir_ / "manifest.jsonl";
        manifest_ = Fd(::open(manifest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
        if (manifest_.get() < 0) throw io_error("create", manifest, errno);
        cur_ = Fd(::open((dir_ / "cur").c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY));
        if (cur_.get() < 0) throw io_error("open", dir_ / "cur", errno);
        sync();
        fsync_path(dir_);
        fsync_path(user_dir);
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        for (char* p = host; *p; ++p) host_ += *p == '/' ? "\\057" : *p == ':' ? "\\072" : std::string(1, *p);
    }

    const fs::path& dir() const { return dir_; }

    // Writes one message: tmp/, fsync, mtime = internal date, rename to cur/ with its flags.
    // Returns the path relative to the archive ("cur/...").
    std::string write(std::string_view bytes, const std::vector<std::string>& flags, sys_seconds date) {
        ++seq_;
        const std::string base = fmt::format("{}.P{}Q{}.{}", now_.time_since_epoch().count(), ::getpid(), seq_, host_);
        const fs::path tmp = dir_ / "tmp" / base;
        const std::string rel = "cur/" + base + ":2," + maildir_info_flags(flags);
        {
            Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
            if (fd.get() < 0) throw io_error("create", tmp, errno);
            write_all(fd.get(), bytes, tmp);
            const timespec times[2] = {{date.time_since_epoch().count(), 0}, {date.time_since_epoch().count(), 0}};
            if (::futimens(fd.get(), times) != 0 || ::fsync(fd.get()) != 0) throw io_error("write", tmp, errno);
            if (::close(fd.release()) != 0) throw io_error("write", tmp, errno);
        }
        if (::rename(tmp.c_str(), (dir_ / rel).c_str()) != 0) throw io_error("rename", tmp, errno);
        return rel;
    }

    void add_to_manifest(const nlohmann::json& entry) {
        write_all(manifest_.get(), entry.dump() + "\n", dir_ / "manifest.jsonl");
    }

    // Makes the renames into cur/ and the manifest lines durable.
    void sync() {
        if (::fsync(cur_.get()) != 0) throw io_error("sync", dir_ / "cur", errno);
        if (::fsync(manifest_.get()) != 0) throw io_error("sync", dir_ / "manifest.jsonl", errno);
    }

private:
    fs::path dir_;
    sys_seconds now_;
    Fd manifest_, cur_;
    std::string host_;
    std::uint64_t seq_ = 0;
};

std::string maildir_info_flags(const std::vector<std::string>& flags) {
    static constexpr std::array<std::pair<std::string_view, char>, 5> kLetters{
        {{"\\Draft", 'D'}, {"\\Flagged", 'F'}, {"\\Answered", 'R'}, {"\\Seen", 'S'}, {"\\Deleted", 'T'}}};
    std::string out;
    for (const auto& entry : kLetters) // not a structured binding: clang 14 cannot capture those
        if (std::any_of(flags.begin(), flags.end(), [&](const auto& f) { return iequals(f, entry.first); }))
            out += entry.second;
    return out; // the table is in ASCII order of the letters
}

std::string archive_path_component(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                          c == '_' || c == '@' || c == '+' || c == '-';
        out += keep ? std::string(1, static_cast<char>(c)) : fmt::format("%{:02X}", c);
    }
    if (out.empty()) return "%";
    if (std::all_of(out.begin(), out.end(), [](char c) { return c == '.'; })) {
        std::string escaped;
        for (std::size_t i = 0; i < out.size(); ++i) escaped += "%2E";
        return escaped;
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1)
        throw Error(ErrorCategory::internal, "OpenSSL cannot compute SHA-256");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned i = 0; i < len; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 15];
    }
    return hex;
}

MaildirArchive::MaildirArchive(const fs::path& root, const std::string& uid, std::int64_t run, sys_seconds now)
    : impl_(std::make_unique<Impl>(root, uid, run, now)) {}
MaildirArchive::MaildirArchive(MaildirArchive&&) noexcept = default;
MaildirArchive& MaildirArchive::operator=(MaildirArchive&&) noexcept = default;
MaildirArchive::~MaildirArchive() = default;

const fs::path& MaildirArchive::dir() const { return impl_->dir(); }

std::string MaildirArchive::write(std::string_view bytes, const std::vector<std::string>& flags, sys_seconds date) {
    return impl_->write(bytes, flags, date);
}

void MaildirArchive::add_to_manifest(const nlohmann::json& entry) { impl_->add_to_manifest(entry); }

void MaildirArchive::sync() { impl_->sync(); }

} // namespace mbx::ops
