#pragma once

// A timer thread: runs callbacks at or after a deadline. The gateway uses it for long-polling
// timeouts; callbacks must be short and must not block.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace tern::gateway {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  Scheduler();
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Returns an id that Cancel accepts.
  uint64_t Schedule(Clock::time_point deadline, std::function<void()> callback);
  // Cancels a callback that has not started yet; returns whether it was cancelled.
  bool Cancel(uint64_t id);

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  uint64_t next_id_ = 1;
  std::multimap<Clock::time_point, std::pair<uint64_t, std::function<void()>>> timers_;
  std::map<uint64_t, decltype(timers_)::iterator> by_id_;
  std::thread thread_;
};

}  // namespace tern::gateway
