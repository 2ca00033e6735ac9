#pragma once
// Brewery events cross from the XMPP thread (xmpp::BreweryClient's handler) to the thread that
// owns the output: `watch` and `demo` push on one side and take() a batch on the other.
#include <deque>
#include <mutex>
#include <utility>

#include "xmpp/brewery_client.h"

namespace agent {

class EventQueue {
 public:
  void push(const xmpp::Event& event) {
    std::lock_guard lock(mutex_);
    events_.push_back(event);
  }
  // Every event pushed since the last take(), oldest first.
  std::deque<xmpp::Event> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(events_, {});
  }

 private:
  std::mutex mutex_;
  std::deque<xmpp::Event> events_;
};

}  // namespace agent
