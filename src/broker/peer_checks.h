#pragma once

// Checks on what arrives at the cluster port. Without mutual TLS anyone who can reach the port
// can call it, so every check here treats its input as possibly hostile: a message that fails
// one is dropped or refused, never allowed to reach a TERN_CHECK. What a stranger can still do
// by claiming a member's node id is described in docs/security.md.
//
// Stateless functions, safe on any thread (the gRPC handlers call them).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tern/cluster.pb.h"
#include "tern/raft.pb.h"
#include "tern/record.pb.h"

namespace tern::broker {

// Why a Raft envelope was dropped; the names are the `reason` label of
// tern_cluster_dropped_raft_messages_total.
enum class RaftDropReason {
  kUnknownPartition,  // a partition this broker holds no replica of
  kNotAMember,        // sender (or the node it claims in the message) is not in the group
  kMalformed,         // not something a correct member sends (local message type, bad indexes)
  kUndecodableEntry,  // a replicated entry the engine could not apply
};
inline constexpr int kRaftDropReasonCount = 4;
std::string_view RaftDropReasonName(RaftDropReason reason);

struct RaftDrop {
  RaftDropReason reason;
  std::string detail;
};

// Checks one envelope of a RaftBatch that `from_node_id` sent to `self_node_id` for a partition
// whose replicas are on `member_node_ids` (empty: this broker holds no replica). Returns why it
// must be dropped, or nothing when it may be handed to the partition.
std::optional<RaftDrop> CheckRaftEnvelope(const cluster::RaftEnvelope& envelope,
                                          int32_t from_node_id, int32_t self_node_id,
                                          const std::vector<int32_t>& member_node_ids);

// A replicated entry as the engine applies it: nothing (the leader's empty entry, or a normal
// entry without data) or one record batch. Anything else (bytes that are not a RecordBatch, an
// entry type the broker never produces) is DATA_LOSS naming the entry's index.
absl::StatusOr<std::optional<record::RecordBatch>> DecodeEntry(const raft::Entry& entry);

// Checks a command that a gateway or another partition sends with Execute: only commands, only
// the value types and intents gateways and partitions send, a source partition that exists,
// and the gateway's limits on every variables document it carries (gateway::RequestLimits, the
// one definition of those limits). INVALID_ARGUMENT says what is wrong.
absl::Status CheckPeerCommand(const record::Record& command, int32_t partition_count);

}  // namespace tern::broker
