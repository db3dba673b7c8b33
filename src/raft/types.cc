#include "raft/types.h"

#include "base/check.h"

namespace tern::raft {

const char* RoleName(StateRole role) {
  switch (role) {
    case StateRole::kFollower:
      return "follower";
    case StateRole::kPreCandidate:
      return "pre-candidate";
    case StateRole::kCandidate:
      return "candidate";
    case StateRole::kLeader:
      return "leader";
  }
  return "?";
}

bool IsLocalMessage(MessageType type) {
  switch (type) {
    case MSG_HUP:
    case MSG_BEAT:
    case MSG_PROP:
    case MSG_CHECK_QUORUM:
    case MSG_UNREACHABLE:
    case MSG_SNAP_STATUS:
    case MSG_TRANSFER_LEADER:
      return true;
    default:
      return false;
  }
}

bool IsResponseMessage(MessageType type) {
  return type == MSG_APP_RESP || type == MSG_VOTE_RESP || type == MSG_PRE_VOTE_RESP ||
         type == MSG_HEARTBEAT_RESP || type == MSG_UNREACHABLE;
}

MessageType VoteResponseType(MessageType type) {
  switch (type) {
    case MSG_VOTE:
      return MSG_VOTE_RESP;
    case MSG_PRE_VOTE:
      return MSG_PRE_VOTE_RESP;
    default:
      TERN_UNREACHABLE("not a vote message: ", MessageType_Name(type));
  }
}

const std::string& MessageTypeName(MessageType type) { return MessageType_Name(type); }

}  // namespace tern::raft
