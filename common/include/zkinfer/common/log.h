// Logging for the coordinator, the worker and the client: spdlog's default logger on stderr,
// each line with a timestamp, the component and the level. Log through spdlog's API directly.
#pragma once

#include <string>

namespace zkinfer::common {

// `level`: trace, debug, info, warn, error, critical or off; throws std::invalid_argument
// naming anything else (spdlog itself would quietly read it as off). Safe to call again.
void init_logging(const std::string& component, const std::string& level);

}  // namespace zkinfer::common
