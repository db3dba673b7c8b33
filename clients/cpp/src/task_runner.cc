#include "task_runner.h"

#include <pthread.h>

#include <algorithm>

namespace tern::internal {

TaskRunner::TaskRunner(int threads, std::string name) : state_(std::make_shared<State>()) {
  threads = std::max(threads, 1);
  std::lock_guard lock(state_->mu);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back(Loop, state_);
    // Thread names show up in debuggers and `top -H`; Linux limits them to 15 characters.
    pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
    state_->thread_ids.push_back(threads_.back().get_id());
  }
}

TaskRunner::~TaskRunner() { Shutdown(); }

void TaskRunner::Post(std::function<void()> task) {
  PostAfter(Clock::duration::zero(), std::move(task));
}

uint64_t TaskRunner::PostAfter(Clock::duration delay, std::function<void()> task) {
  std::lock_guard lock(state_->mu);
  if (state_->stop) return 0;
  uint64_t id = state_->next_id++;
  state_->tasks.emplace(Clock::now() + delay, std::make_pair(id, std::move(task)));
  state_->cv.notify_one();
  return id;
}

bool TaskRunner::Cancel(uint64_t id) {
  std::function<void()> dropped;  // destroyed outside the lock
  std::lock_guard lock(state_->mu);
  for (auto it = state_->tasks.begin(); it != state_->tasks.end(); ++it) {
    if (it->second.first == id) {
      dropped = std::move(it->second.second);
      state_->tasks.erase(it);
      return true;
    }
  }
  return false;
}

bool TaskRunner::OnRunnerThread() const {
  std::lock_guard lock(state_->mu);
  auto me = std::this_thread::get_id();
  return std::find(state_->thread_ids.begin(), state_->thread_ids.end(), me) !=
         state_->thread_ids.end();
}

void TaskRunner::Shutdown() {
  std::lock_guard shutdown_lock(shutdown_mu_);
  std::multimap<Clock::time_point, std::pair<uint64_t, std::function<void()>>> dropped;
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
    dropped.swap(state_->tasks);
    state_->cv.notify_all();
  }
  dropped.clear();
  auto me = std::this_thread::get_id();
  for (auto& thread : threads_) {
    if (!thread.joinable()) continue;
    if (thread.get_id() == me) {
      thread.detach();
    } else {
      thread.join();
    }
  }
  threads_.clear();
}

void TaskRunner::Loop(std::shared_ptr<State> state) {
  std::unique_lock lock(state->mu);
  while (!state->stop) {
    if (state->tasks.empty()) {
      state->cv.wait(lock);
      continue;
    }
    auto first = state->tasks.begin();
    if (first->first > Clock::now()) {
      // A copy: Cancel() may erase the entry while this thread waits.
      const Clock::time_point due = first->first;
      state->cv.wait_until(lock, due);
      continue;
    }
    std::function<void()> task = std::move(first->second.second);
    state->tasks.erase(first);
    lock.unlock();
    task();
    task = nullptr;  // captured state is released outside the lock
    lock.lock();
  }
}

}  // namespace tern::internal
