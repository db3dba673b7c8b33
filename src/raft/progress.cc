#include "raft/progress.h"

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace tern::raft {

const char* ProgressStateName(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "probe";
    case ProgressState::kReplicate:
      return "replicate";
    case ProgressState::kSnapshot:
      return "snapshot";
  }
  return "?";
}

void Inflights::Add(uint64_t last_index, uint64_t bytes) {
  TERN_CHECK(!Full(), "cannot add into a full inflights window");
  TERN_CHECK(items_.empty() || items_.back().index < last_index, "inflight indexes must increase");
  items_.push_back({last_index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeLE(uint64_t index) {
  while (!items_.empty() && items_.front().index <= index) {
    bytes_ -= items_.front().bytes;
    items_.pop_front();
  }
}

bool Inflights::Full() const {
  return items_.size() >= max_count_ || (max_bytes_ != 0 && bytes_ >= max_bytes_);
}

void Inflights::Reset() {
  items_.clear();
  bytes_ = 0;
}

void Progress::BecomeProbe() {
  // After a snapshot, the follower has at least the snapshot: probe right after it.
  if (state == ProgressState::kSnapshot) {
    uint64_t snap = pending_snapshot;
    state = ProgressState::kProbe;
    next = std::max(match + 1, snap + 1);
  } else {
    state = ProgressState::kProbe;
    next = match + 1;
  }
  pending_snapshot = 0;
  msg_app_flow_paused = false;
  inflights.Reset();
}

void Progress::BecomeReplicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  pending_snapshot = 0;
  msg_app_flow_paused = false;
  inflights.Reset();
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  state = ProgressState::kSnapshot;
  pending_snapshot = snapshot_index;
  msg_app_flow_paused = false;
  inflights.Reset();
}

void Progress::SentEntries(size_t entries, uint64_t bytes, uint64_t last_index) {
  switch (state) {
    case ProgressState::kReplicate:
      if (entries > 0) {
        next = last_index + 1;
        inflights.Add(last_index, bytes);
      }
      msg_app_flow_paused = inflights.Full();
      break;
    case ProgressState::kProbe:
      // One probe at a time: wait for the answer (or a heartbeat answer) before the next.
      msg_app_flow_paused = true;
      break;
    case ProgressState::kSnapshot:
      TERN_UNREACHABLE("sending append in snapshot state");
  }
}

bool Progress::MaybeUpdate(uint64_t n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    msg_app_flow_paused = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t match_hint) {
  if (state == ProgressState::kReplicate) {
    // Rejections of messages at or below Match are stale: Match is known good.
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // In probe state only the rejection of the one outstanding probe (next - 1) counts.
  if (next - 1 != rejected) return false;
  next = std::max(std::min(rejected, match_hint + 1), match + 1);
  msg_app_flow_paused = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case ProgressState::kProbe:
      return msg_app_flow_paused;
    case ProgressState::kReplicate:
      // A late ack below the window's first message unpauses without freeing a slot.
      return msg_app_flow_paused || inflights.Full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

std::string Progress::ToString() const {
  return absl::StrCat(ProgressStateName(state), " match=", match, " next=", next,
                      pending_snapshot ? absl::StrCat(" pending_snap=", pending_snapshot) : "",
                      recent_active ? "" : " inactive", " inflight=", inflights.Count());
}

void ProgressTracker::SetConfig(JointConfig voters, std::set<uint64_t> learners, uint64_t next) {
  voters_ = std::move(voters);
  learners_ = std::move(learners);
  std::set<uint64_t> all = voters_.Ids();
  all.insert(learners_.begin(), learners_.end());
  for (auto it = progress_.begin(); it != progress_.end();) {
    it = all.count(it->first) ? std::next(it) : progress_.erase(it);
  }
  for (uint64_t id : all) {
    if (!progress_.count(id)) {
      progress_.emplace(id, Progress(next, max_inflight_, max_inflight_bytes_));
    }
  }
}

Progress* ProgressTracker::Get(uint64_t id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

uint64_t ProgressTracker::Committed() const {
  return voters_.CommittedIndex([this](uint64_t id) -> std::optional<uint64_t> {
    auto it = progress_.find(id);
    if (it == progress_.end()) return std::nullopt;
    return it->second.match;
  });
}

bool ProgressTracker::QuorumActive() const {
  return voters_.Vote([this](uint64_t id) -> std::optional<bool> {
    auto it = progress_.find(id);
    if (it == progress_.end()) return std::nullopt;
    return it->second.recent_active;
  }) == VoteResult::kWon;
}

ProgressTracker::Tally ProgressTracker::TallyVotes() const {
  Tally t;
  for (uint64_t id : voters_.Ids()) {
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    (it->second ? t.granted : t.rejected)++;
  }
  t.result = voters_.Vote([this](uint64_t id) -> std::optional<bool> {
    auto it = votes_.find(id);
    if (it == votes_.end()) return std::nullopt;
    return it->second;
  });
  return t;
}

ConfState ProgressTracker::ToConfState() const {
  ConfState cs;
  for (uint64_t id : voters_.incoming().ids()) cs.add_voters(id);
  for (uint64_t id : voters_.outgoing().ids()) cs.add_voters_outgoing(id);
  for (uint64_t id : learners_) cs.add_learners(id);
  return cs;
}

}  // namespace tern::raft
