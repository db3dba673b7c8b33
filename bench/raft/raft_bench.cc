// tern-raft-bench: Raft alone. Three members of one group, each on its own thread with its own
// segment-file journal on the real disk (fsync on every Ready that must sync, as in the broker),
// exchanging messages through in-memory mailboxes. The leader keeps `--window` entries of
// `--entry-bytes` in flight; the figure is committed entries per second. bench/raft_vs_etcd.sh
// prints it beside etcd's `etcdctl check perf` in the same run.
//
//   tern-raft-bench [--dir /var/tmp/tern-raft-bench] [--seconds 10] [--entry-bytes 256]
//                   [--window 1024]

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "journal/file_system.h"
#include "journal/journal_storage.h"
#include "raft/raw_node.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Mailbox {
  std::mutex mutex;
  std::condition_variable wakeup;
  std::deque<tern::raft::Message> messages;
};

struct Member {
  uint64_t id = 0;
  std::unique_ptr<tern::journal::JournalStorage> storage;
  std::unique_ptr<tern::raft::RawNode> node;
  Mailbox mailbox;
  std::atomic<uint64_t> committed{0};
  std::atomic<bool> leader{false};
};

void Die(const std::string& what) {
  std::fprintf(stderr, "tern-raft-bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/var/tmp/tern-raft-bench";
  double seconds = 10;
  size_t entry_bytes = 256;
  uint64_t window = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir")
      dir = argv[i + 1];
    else if (flag == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (flag == "--entry-bytes")
      entry_bytes = static_cast<size_t>(std::atol(argv[i + 1]));
    else if (flag == "--window")
      window = static_cast<uint64_t>(std::atol(argv[i + 1]));
    else
      Die("unknown flag " + flag);
  }
  std::filesystem::remove_all(dir);
  std::vector<uint64_t> voters = {1, 2, 3};
  std::vector<std::unique_ptr<Member>> members;
  for (uint64_t id : voters) {
    auto member = std::make_unique<Member>();
    member->id = id;
    std::string path = dir + "/member-" + std::to_string(id);
    std::filesystem::create_directories(path);
    auto storage = tern::journal::JournalStorage::Open(&tern::journal::PosixFileSystem(),
                                                       path + "/journal", voters);
    if (!storage.ok()) Die(storage.status().ToString());
    member->storage = *std::move(storage);
    tern::raft::Config config;
    config.id = id;
    config.voters = voters;
    config.election_ticks = 10;
    config.heartbeat_ticks = 1;
    config.seed = id;
    config.max_inflight_msgs = 256;
    member->node = std::make_unique<tern::raft::RawNode>(config, member->storage.get());
    members.push_back(std::move(member));
  }
  members[0]->node->Campaign();

  std::atomic<bool> stop{false};
  const std::string payload(entry_bytes, 'x');
  auto run = [&](Member& self) {
    auto next_tick = Clock::now() + std::chrono::milliseconds(50);
    uint64_t proposed_last = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      std::deque<tern::raft::Message> inbox;
      {
        std::unique_lock lock(self.mailbox.mutex);
        const bool can_propose =
            self.leader.load() && proposed_last < self.committed.load() + window;
        if (self.mailbox.messages.empty() && !self.node->HasReady() && !can_propose) {
          self.mailbox.wakeup.wait_until(lock, next_tick);
        }
        inbox.swap(self.mailbox.messages);
      }
      for (auto& message : inbox) (void)self.node->Step(message);
      if (Clock::now() >= next_tick) {
        self.node->Tick();
        next_tick += std::chrono::milliseconds(50);
      }
      if (self.leader.load()) {
        // Keep the pipeline full: up to `window` entries proposed but not committed.
        uint64_t committed = self.committed.load();
        while (proposed_last < committed + window) {
          auto id = self.node->Propose(payload);
          if (!id.ok()) break;
          proposed_last = id->index;
        }
      }
      while (self.node->HasReady()) {
        tern::raft::Ready ready = self.node->GetReady();
        if (ready.soft_state) {
          self.leader.store(ready.soft_state->role == tern::raft::StateRole::kLeader);
          proposed_last = self.node->Status().last_index;
        }
        absl::Status saved = self.storage->Save(ready);
        if (!saved.ok()) Die(saved.ToString());
        for (auto& message : ready.messages) {
          Member& to = *members[message.to() - 1];
          {
            std::lock_guard lock(to.mailbox.mutex);
            to.mailbox.messages.push_back(std::move(message));
          }
          to.mailbox.wakeup.notify_one();
        }
        if (!ready.committed_entries.empty()) {
          self.committed.store(ready.committed_entries.back().index());
        }
        self.node->Advance(ready);
      }
    }
  };
  std::vector<std::thread> threads;
  for (auto& member : members) threads.emplace_back([&run, m = member.get()] { run(*m); });

  // Warm up until a leader commits, then measure.
  auto leader_committed = [&] {
    uint64_t best = 0;
    for (auto& member : members) {
      if (member->leader.load()) best = std::max(best, member->committed.load());
    }
    return best;
  };
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (leader_committed() < 100 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  uint64_t start_committed = leader_committed();
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  uint64_t end_committed = leader_committed();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  for (auto& member : members) member->mailbox.wakeup.notify_all();
  for (auto& thread : threads) thread.join();
  double rate = static_cast<double>(end_committed - start_committed) / elapsed;
  std::printf(
      "tern raft: 3 members, fsync on, %zu-byte entries, window %llu: %.0f committed "
      "entries/s over %.1f s\n",
      entry_bytes, static_cast<unsigned long long>(window), rate, elapsed);
  std::printf("{\"raft_committed_entries_per_s\": %.0f}\n", rate);
  std::filesystem::remove_all(dir);
  return 0;
}
