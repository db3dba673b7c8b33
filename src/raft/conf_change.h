#pragma once

// Membership changes, one member at a time: the pure rules Raft applies to every
// ENTRY_CONF_CHANGE entry in its log, and that an application uses to follow the membership it
// has applied (for example to record it with a snapshot). See README.md, "Membership".

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "raft/types.h"
#include "tern/conf_change.pb.h"

namespace tern::raft {

bool IsVoter(const ConfState& cs, uint64_t id);
bool IsLearner(const ConfState& cs, uint64_t id);
bool IsMember(const ConfState& cs, uint64_t id);
// Equal as sets (order of ids does not matter).
bool SameConfState(const ConfState& a, const ConfState& b);
std::string ConfStateToString(const ConfState& cs);

// The membership after `cc`. Refused (kInvalidArgument) when it is not a valid single step from
// `cs`: an unspecified type or node 0, adding a member that exists, promoting a member that is
// not a learner, removing a non-member or the last voter. A joint configuration (non-empty
// voters_outgoing) is never produced by Tern and refused (kFailedPrecondition).
absl::StatusOr<ConfState> ApplyConfChange(const ConfState& cs, const ConfChange& cc);

// The membership after log entry `e`: `cs` unless `e` is an ENTRY_CONF_CHANGE, whose
// `conf_state` (the whole membership after the change, as the leader computed it) replaces
// `cs`. An entry that does not parse or names no voter (only a damaged or hostile log could hold
// one: the leader checks every change before appending it) changes nothing, the same way on
// every member.
ConfState ConfStateAfter(const ConfState& cs, const Entry& e);

// An ENTRY_CONF_CHANGE entry carrying `cc` and the membership `next` it leads to (index and
// term are set by the leader).
Entry MakeConfChangeEntry(ConfChange cc, const ConfState& next);

}  // namespace tern::raft
