#pragma once

// Small shared vocabulary of the Raft state machine. The wire/persisted types (Entry, Message,
// HardState, ConfState, SnapshotMetadata) are the generated protobuf classes of
// proto/tern/raft.proto, which share this namespace.

#include <cstdint>
#include <string>

#include "tern/raft.pb.h"

namespace tern::raft {

// Member ids are non-zero; 0 means "nobody" (no vote, no known leader).
inline constexpr uint64_t kNone = 0;

enum class StateRole { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(StateRole role);

// Identifies a log entry: by Log Matching, (index, term) names one entry in every member's log.
struct EntryId {
  uint64_t index = 0;
  uint64_t term = 0;
  friend bool operator==(const EntryId&, const EntryId&) = default;
};

// Volatile state that callers often want to observe (who leads, what we are). Not persisted.
struct SoftState {
  uint64_t lead = kNone;
  StateRole role = StateRole::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

inline bool IsEmpty(const HardState& hs) {
  return hs.term() == 0 && hs.vote() == 0 && hs.commit() == 0;
}
inline bool operator==(const HardState& a, const HardState& b) {
  return a.term() == b.term() && a.vote() == b.vote() && a.commit() == b.commit();
}

// Approximate payload size of an entry, used for the byte limits of messages and Readies.
inline uint64_t EntrySize(const Entry& e) { return e.data().size() + 24; }

bool IsLocalMessage(MessageType type);
bool IsResponseMessage(MessageType type);
// The response type that answers a (pre-)vote request.
MessageType VoteResponseType(MessageType type);
const std::string& MessageTypeName(MessageType type);

}  // namespace tern::raft
