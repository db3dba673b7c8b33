#pragma once

// Quorum arithmetic, kept apart from the protocol so it can be tested on its own and so that
// membership changes (joint consensus) only touch this file and the tracker: every decision that
// needs "a majority" goes through JointConfig, which today has an empty outgoing half.

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

namespace tern::raft {

enum class VoteResult { kPending, kLost, kWon };

// Returns the index acknowledged by member `id`, or nullopt when it has acknowledged nothing.
using AckedIndexFn = std::function<std::optional<uint64_t>(uint64_t id)>;
// Returns the vote of `id`: nullopt when it has not answered yet.
using VoteFn = std::function<std::optional<bool>(uint64_t id)>;

class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::set<uint64_t> ids) : ids_(std::move(ids)) {}

  const std::set<uint64_t>& ids() const { return ids_; }
  bool empty() const { return ids_.empty(); }
  bool contains(uint64_t id) const { return ids_.count(id) > 0; }

  // The largest index acknowledged by a majority. An empty config returns UINT64_MAX so that a
  // joint config with an empty half is decided by the other half alone.
  uint64_t CommittedIndex(const AckedIndexFn& acked) const;
  VoteResult Vote(const VoteFn& vote) const;
  std::string ToString() const;

 private:
  std::set<uint64_t> ids_;
};

class JointConfig {
 public:
  JointConfig() = default;
  explicit JointConfig(MajorityConfig incoming, MajorityConfig outgoing = {})
      : incoming_(std::move(incoming)), outgoing_(std::move(outgoing)) {}

  const MajorityConfig& incoming() const { return incoming_; }
  const MajorityConfig& outgoing() const { return outgoing_; }
  std::set<uint64_t> Ids() const;
  bool contains(uint64_t id) const { return incoming_.contains(id) || outgoing_.contains(id); }

  // Both halves must agree: the minimum of their committed indexes; a vote is won only when won
  // in both and lost when lost in either.
  uint64_t CommittedIndex(const AckedIndexFn& acked) const;
  VoteResult Vote(const VoteFn& vote) const;

 private:
  MajorityConfig incoming_;
  MajorityConfig outgoing_;
};

}  // namespace tern::raft
