#include "raft/quorum.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tern::raft {

uint64_t MajorityConfig::CommittedIndex(const AckedIndexFn& acked) const {
  if (ids_.empty()) return std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> indexes;
  indexes.reserve(ids_.size());
  for (uint64_t id : ids_) indexes.push_back(acked(id).value_or(0));
  // Sorted descending, the (n/2)-th element (0-based) is acknowledged by n/2 + 1 members.
  std::sort(indexes.begin(), indexes.end(), std::greater<>());
  return indexes[ids_.size() / 2];
}

VoteResult MajorityConfig::Vote(const VoteFn& vote) const {
  if (ids_.empty()) return VoteResult::kWon;
  size_t granted = 0, missing = 0;
  for (uint64_t id : ids_) {
    std::optional<bool> v = vote(id);
    if (!v.has_value()) {
      ++missing;
    } else if (*v) {
      ++granted;
    }
  }
  size_t quorum = ids_.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::kWon;
  if (granted + missing >= quorum) return VoteResult::kPending;
  return VoteResult::kLost;
}

std::string MajorityConfig::ToString() const {
  return absl::StrCat("(", absl::StrJoin(ids_, " "), ")");
}

std::set<uint64_t> JointConfig::Ids() const {
  std::set<uint64_t> ids = incoming_.ids();
  ids.insert(outgoing_.ids().begin(), outgoing_.ids().end());
  return ids;
}

uint64_t JointConfig::CommittedIndex(const AckedIndexFn& acked) const {
  return std::min(incoming_.CommittedIndex(acked), outgoing_.CommittedIndex(acked));
}

VoteResult JointConfig::Vote(const VoteFn& vote) const {
  VoteResult a = incoming_.Vote(vote);
  VoteResult b = outgoing_.Vote(vote);
  if (a == b) return a;
  if (a == VoteResult::kLost || b == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace tern::raft
