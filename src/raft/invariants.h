#pragma once

// Checks of a member's internal consistency, cheap enough to run after every step in tests and
// the simulator (practice P7: LogCabin's RaftConsensusInvariants, TigerBeetle's always-on
// assertions). Production code relies on the TERN_CHECKs inside the state machine instead.

#include "absl/status/status.h"
#include "raft/raw_node.h"

namespace tern::raft {

// Absolute invariants of one member, and (with `previous`, the same member's NodeStatus before
// the step) the ones over time: term, commit and applied never decrease; the vote never changes
// within a term.
absl::Status CheckInvariants(const RawNode& node, const NodeStatus* previous = nullptr);

}  // namespace tern::raft
