#include "mbx/core/version.hpp"

namespace mbx {

std::string_view version() { return MBX_VERSION; }

} // namespace mbx
