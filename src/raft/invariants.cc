#include "raft/invariants.h"

#include "absl/strings/str_cat.h"
#include "raft/conf_change.h"

namespace tern::raft {

absl::Status CheckInvariants(const RawNode& node, const NodeStatus* previous) {
  const Raft& r = node.raft();
  const RaftLog& log = r.log();
  auto fail = [&](auto&&... parts) {
    return absl::InternalError(absl::StrCat("member ", r.id(), ": ", parts...));
  };
  if (log.applied() > log.committed()) {
    return fail("applied ", log.applied(), " > committed ", log.committed());
  }
  if (log.committed() > log.LastIndex()) {
    return fail("committed ", log.committed(), " > last index ", log.LastIndex());
  }
  if (log.FirstIndex() > log.LastIndex() + 1) return fail("first index beyond last + 1");
  if (log.LastTerm() > r.term()) {
    return fail("last log term ", log.LastTerm(), " > current term ", r.term());
  }
  // Terms never decrease along the unstable tail and across its boundary with the stable log.
  uint64_t prev_term = log.ZeroTermOnOutOfBounds(
      log.UnstableEntries().empty() ? 0 : log.UnstableEntries().front().index() - 1);
  for (const Entry& e : log.UnstableEntries()) {
    if (e.term() < prev_term) return fail("log term decreases at ", e.index());
    prev_term = e.term();
  }
  // The tracker follows the latest membership in the log.
  ConfState cs = r.conf_state();
  if (!SameConfState(cs, r.tracker().ToConfState())) {
    return fail("tracker membership ", ConfStateToString(r.tracker().ToConfState()),
                " differs from the log's ", ConfStateToString(cs));
  }
  if (r.last_conf_index() > log.LastIndex()) {
    return fail("membership change at ", r.last_conf_index(), " beyond the last index");
  }
  switch (r.role()) {
    case StateRole::kLeader: {
      for (const auto& [id, pr] : r.tracker().progress()) {
        if (!IsMember(cs, id)) return fail("leader tracks non-member ", id);
      }
      if (r.lead() != r.id()) return fail("leader does not know itself as leader");
      if (r.vote() != r.id()) return fail("leader did not vote for itself");
      for (const auto& [id, pr] : r.tracker().progress()) {
        if (pr.match > log.LastIndex()) return fail("match of ", id, " beyond last index");
        if (pr.next < pr.match + 1) return fail("next of ", id, " <= match");
      }
      break;
    }
    case StateRole::kCandidate:
      if (r.vote() != r.id()) return fail("candidate did not vote for itself");
      [[fallthrough]];
    case StateRole::kPreCandidate:
      if (r.lead() != kNone) return fail("candidate knows a leader");
      break;
    case StateRole::kFollower:
      if (r.lead() == r.id()) return fail("follower believes it leads");
      break;
  }
  if (previous != nullptr) {
    if (r.term() < previous->term) return fail("term decreased from ", previous->term);
    if (log.committed() < previous->commit) return fail("commit decreased from ", previous->commit);
    if (log.applied() < previous->applied)
      return fail("applied decreased from ", previous->applied);
    if (r.term() == previous->term && previous->vote != kNone && r.vote() != previous->vote) {
      return fail("vote changed within term ", r.term(), " from ", previous->vote, " to ",
                  r.vote());
    }
  }
  return absl::OkStatus();
}

}  // namespace tern::raft
