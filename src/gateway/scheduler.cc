#include "gateway/scheduler.h"

namespace tern::gateway {

Scheduler::Scheduler() : thread_([this] { Run(); }) {}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_all();
  thread_.join();
}

uint64_t Scheduler::Schedule(Clock::time_point deadline, std::function<void()> callback) {
  std::lock_guard lock(mutex_);
  uint64_t id = next_id_++;
  auto it = timers_.emplace(deadline, std::make_pair(id, std::move(callback)));
  by_id_[id] = it;
  if (it == timers_.begin()) wakeup_.notify_all();
  return id;
}

bool Scheduler::Cancel(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  timers_.erase(it->second);
  by_id_.erase(it);
  return true;
}

void Scheduler::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (timers_.empty()) {
      wakeup_.wait(lock);
      continue;
    }
    auto first = timers_.begin();
    // Copied: Cancel may erase the entry while we wait.
    Clock::time_point deadline = first->first;
    if (Clock::now() < deadline) {
      wakeup_.wait_until(lock, deadline);
      continue;
    }
    auto callback = std::move(first->second.second);
    by_id_.erase(first->second.first);
    timers_.erase(first);
    lock.unlock();
    callback();
    lock.lock();
  }
}

}  // namespace tern::gateway
