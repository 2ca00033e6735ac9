#pragma once
// The typed `schedule` section of a Config (see Config::schedule_config). Include after
// boost::asio headers if a translation unit uses both (namespace `schedule` vs asio's
// unqualified schedule()).
#include "agent/config.h"
#include "schedule/schedule.h"

namespace agent {

struct ScheduleSection {
  schedule::ScheduleConfig config;
};

}  // namespace agent
