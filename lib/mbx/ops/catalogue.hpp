#pragma once
// The MIS code catalogue (mbx/kb) as commands read it: `mbx explain` shows it, diagnose points
// at its codes. Tools reach every library through ops; for this data library that is all
// there is to it.
#include "mbx/kb/catalogue.hpp"

namespace mbx::ops::catalogue {

using kb::all_codes;
using kb::find_code;
using kb::is_shipped;
using kb::MisCode;
using kb::RemediationCommand;
using kb::shipped_commands;
using kb::to_json;
using kb::to_string;

} // namespace mbx::ops::catalogue
