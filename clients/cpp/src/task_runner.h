#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tern::internal {

// A fixed pool of threads running posted and delayed tasks in order of due time. Owned by the
// ClientCore (callbacks, retry timers) or a job worker (handlers); thread-safe.
//
// The pool may be destroyed by one of its own threads (the last reference to its owner can be
// dropped inside a task): that thread is detached and exits after its task, the others are
// joined. Tasks not yet run when the pool stops are dropped.
class TaskRunner {
 public:
  using Clock = std::chrono::steady_clock;

  TaskRunner(int threads, std::string name);
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  void Post(std::function<void()> task);
  // Returns an id for Cancel().
  uint64_t PostAfter(Clock::duration delay, std::function<void()> task);
  // True when the task was removed before it started.
  bool Cancel(uint64_t id);
  // True on one of this pool's threads.
  bool OnRunnerThread() const;
  // Stops taking tasks, waits for running ones and joins (detaching the calling thread if it is
  // one of ours). Idempotent.
  void Shutdown();

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    uint64_t next_id = 1;
    std::multimap<Clock::time_point, std::pair<uint64_t, std::function<void()>>> tasks;
    std::vector<std::thread::id> thread_ids;
  };
  static void Loop(std::shared_ptr<State> state);

  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
  std::mutex shutdown_mu_;
};

}  // namespace tern::internal
