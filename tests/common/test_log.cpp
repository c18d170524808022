#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "zkinfer/common/log.h"

TEST(Logging, LinesCarryComponentAndLevel) {
  zkinfer::common::init_logging("coordinator", "info");
  testing::internal::CaptureStderr();
  spdlog::debug("hidden below info");
  spdlog::warn("queue is {} deep", 7);
  spdlog::default_logger()->flush();
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.find("hidden"), std::string::npos) << out;
  EXPECT_NE(out.find(" coordinator warning: queue is 7 deep\n"), std::string::npos) << out;
  EXPECT_TRUE(out.size() > 4 && out.starts_with("20")) << out;  // ISO date first
}

TEST(Logging, UnknownLevelThrows) {
  EXPECT_THROW(zkinfer::common::init_logging("worker", "loud"), std::invalid_argument);
  EXPECT_NO_THROW(zkinfer::common::init_logging("worker", "off"));
  EXPECT_NO_THROW(zkinfer::common::init_logging("worker", "warn"));
}
