#include "mbx/tls/curl_certificate.hpp"

#include <curl/curl.h>
#include <string_view>

namespace mbx::tls {

std::string curl_leaf_certificate_pem(void* curl) {
    curl_certinfo* info = nullptr;
    if (curl_easy_getinfo(static_cast<CURL*>(curl), CURLINFO_CERTINFO, &info) != CURLE_OK || info == nullptr ||
        info->num_of_certs < 1 || info->certinfo == nullptr) {
        return {};
    }
    for (const curl_slist* item = info->certinfo[0]; item != nullptr; item = item->next) {
        std::string_view line = item->data != nullptr ? item->data : "";
        if (line.starts_with("Cert:")) return std::string(line.substr(5));
    }
    return {};
}

} // namespace mbx::tls
