#include "raft/conf_change.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tern::raft {

namespace {

bool Contains(const google::protobuf::RepeatedField<uint64_t>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void Remove(google::protobuf::RepeatedField<uint64_t>* ids, uint64_t id) {
  ids->erase(std::remove(ids->begin(), ids->end(), id), ids->end());
}

std::set<uint64_t> AsSet(const google::protobuf::RepeatedField<uint64_t>& ids) {
  return std::set<uint64_t>(ids.begin(), ids.end());
}

void SortIds(google::protobuf::RepeatedField<uint64_t>* ids) {
  std::sort(ids->begin(), ids->end());
}

}  // namespace

bool IsVoter(const ConfState& cs, uint64_t id) {
  return Contains(cs.voters(), id) || Contains(cs.voters_outgoing(), id);
}
bool IsLearner(const ConfState& cs, uint64_t id) { return Contains(cs.learners(), id); }
bool IsMember(const ConfState& cs, uint64_t id) { return IsVoter(cs, id) || IsLearner(cs, id); }

bool SameConfState(const ConfState& a, const ConfState& b) {
  return AsSet(a.voters()) == AsSet(b.voters()) &&
         AsSet(a.voters_outgoing()) == AsSet(b.voters_outgoing()) &&
         AsSet(a.learners()) == AsSet(b.learners());
}

std::string ConfStateToString(const ConfState& cs) {
  std::string s = absl::StrCat("voters=(", absl::StrJoin(AsSet(cs.voters()), " "), ")");
  if (!cs.voters_outgoing().empty()) {
    absl::StrAppend(&s, "&&(", absl::StrJoin(AsSet(cs.voters_outgoing()), " "), ")");
  }
  if (!cs.learners().empty()) {
    absl::StrAppend(&s, " learners=(", absl::StrJoin(AsSet(cs.learners()), " "), ")");
  }
  return s;
}

absl::StatusOr<ConfState> ApplyConfChange(const ConfState& cs, const ConfChange& cc) {
  if (!cs.voters_outgoing().empty()) {
    return absl::FailedPreconditionError("raft: joint configurations are not supported");
  }
  const uint64_t id = cc.node_id();
  if (id == kNone) return absl::InvalidArgumentError("raft: membership change for member 0");
  ConfState out = cs;
  switch (cc.type()) {
    case CONF_CHANGE_ADD_LEARNER:
      if (IsMember(cs, id)) {
        return absl::InvalidArgumentError(absl::StrCat("raft: cannot add member ", id,
                                                       ": it is already a ",
                                                       IsVoter(cs, id) ? "voter" : "learner"));
      }
      out.add_learners(id);
      break;
    case CONF_CHANGE_PROMOTE_LEARNER:
      if (!IsLearner(cs, id)) {
        return absl::InvalidArgumentError(
            absl::StrCat("raft: cannot promote member ", id, ": it is not a learner",
                         IsVoter(cs, id) ? " (already a voter)" : " (not a member)"));
      }
      Remove(out.mutable_learners(), id);
      out.add_voters(id);
      break;
    case CONF_CHANGE_REMOVE:
      if (!IsMember(cs, id)) {
        return absl::InvalidArgumentError(
            absl::StrCat("raft: cannot remove member ", id, ": it is not a member"));
      }
      if (IsVoter(cs, id) && cs.voters_size() == 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("raft: cannot remove member ", id, ": it is the last voter"));
      }
      Remove(out.mutable_voters(), id);
      Remove(out.mutable_learners(), id);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("raft: unknown membership change type ", static_cast<int>(cc.type())));
  }
  SortIds(out.mutable_voters());
  SortIds(out.mutable_learners());
  return out;
}

ConfState ConfStateAfter(const ConfState& cs, const Entry& e) {
  if (e.type() != ENTRY_CONF_CHANGE) return cs;
  ConfChange cc;
  if (!cc.ParseFromString(e.data())) return cs;
  const ConfState& next = cc.conf_state();
  if (next.voters().empty() || !next.voters_outgoing().empty()) return cs;
  return next;
}

Entry MakeConfChangeEntry(ConfChange cc, const ConfState& next) {
  *cc.mutable_conf_state() = next;
  Entry e;
  e.set_type(ENTRY_CONF_CHANGE);
  e.set_data(cc.SerializeAsString());
  return e;
}

}  // namespace tern::raft
