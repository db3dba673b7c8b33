#include "broker/peer_checks.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <limits>

#include "base/strings.h"
#include "engine/distribution_checks.h"
#include "engine/intent.h"
#include "engine/record_values.h"
#include "gateway/mapping.h"

namespace tern::broker {
namespace {

using engine::CheckpointIntent;
using engine::CommandDistributionIntent;
using engine::DecisionEvaluationIntent;
using engine::DeploymentIntent;
using engine::IncidentIntent;
using engine::JobBatchIntent;
using engine::JobIntent;
using engine::MessageCorrelationIntent;
using engine::MessageIntent;
using engine::MessageSubscriptionIntent;
using engine::ProcessInstanceCreationIntent;
using engine::ProcessInstanceIntent;
using engine::ProcessInstanceMigrationIntent;
using engine::ProcessInstanceModificationIntent;
using engine::ProcessMessageSubscriptionIntent;
using engine::ResourceDeletionIntent;
using engine::SignalIntent;
using engine::ToInt;
using engine::UserTaskIntent;
using engine::VariableDocumentIntent;

uint64_t RaftId(int32_t node_id) { return static_cast<uint64_t>(node_id) + 1; }

bool IsMember(uint64_t raft_id, const std::vector<int32_t>& member_node_ids) {
  return std::any_of(member_node_ids.begin(), member_node_ids.end(),
                     [raft_id](int32_t node) { return RaftId(node) == raft_id; });
}

// The message types members send each other. Local types (MSG_HUP, MSG_PROP, ...) would let a
// sender start elections or append entries on a leader's behalf; MSG_SNAP only travels as the
// last snapshot chunk, after the snapshot's bytes arrived and were stored.
bool IsWireMessage(raft::MessageType type) {
  switch (type) {
    case raft::MSG_APP:
    case raft::MSG_APP_RESP:
    case raft::MSG_VOTE:
    case raft::MSG_VOTE_RESP:
    case raft::MSG_PRE_VOTE:
    case raft::MSG_PRE_VOTE_RESP:
    case raft::MSG_HEARTBEAT:
    case raft::MSG_HEARTBEAT_RESP:
    case raft::MSG_TIMEOUT_NOW:
      return true;
    default:
      return false;
  }
}

std::optional<RaftDrop> Drop(RaftDropReason reason, std::string detail) {
  return RaftDrop{reason, std::move(detail)};
}

// The parts of a message that a correct member always gets right and that the Raft state
// machine assumes: entries that follow `index` one by one with terms that never decrease and
// never exceed the message's term, and entries the engine can decode.
std::optional<RaftDrop> CheckMessage(const raft::Message& message, uint64_t from, uint64_t to) {
  if (message.from() != from || message.to() != to) {
    return Drop(RaftDropReason::kNotAMember,
                StrCat(raft::MessageType_Name(message.type()), " claims to be from ",
                       message.from(), " to ", message.to(), " but came from ", from, " to ", to));
  }
  if (!IsWireMessage(message.type()) || message.term() == 0) {
    return Drop(RaftDropReason::kMalformed,
                StrCat("message type ", raft::MessageType_Name(message.type()), " at term ",
                       message.term(), " over the wire"));
  }
  if (message.type() != raft::MSG_APP) return std::nullopt;
  // Far from any real log; keeps index arithmetic below from wrapping.
  constexpr uint64_t kMaxIndex = std::numeric_limits<uint64_t>::max() / 2;
  if (message.index() > kMaxIndex || message.log_term() > message.term()) {
    return Drop(RaftDropReason::kMalformed,
                StrCat("MSG_APP after index ", message.index(), " term ", message.log_term(),
                       " at term ", message.term()));
  }
  uint64_t previous_term = message.log_term();
  for (int i = 0; i < message.entries_size(); ++i) {
    const raft::Entry& entry = message.entries(i);
    if (entry.index() != message.index() + 1 + static_cast<uint64_t>(i) ||
        entry.term() < previous_term || entry.term() > message.term()) {
      return Drop(RaftDropReason::kMalformed,
                  StrCat("MSG_APP entry ", i, " has index ", entry.index(), " term ", entry.term(),
                         " after index ", message.index(), " term ", previous_term));
    }
    previous_term = entry.term();
    if (auto decoded = DecodeEntry(entry); !decoded.ok()) {
      return Drop(RaftDropReason::kUndecodableEntry,
                  std::string(ToStd(decoded.status().message())));
    }
  }
  return std::nullopt;
}

// A value type and intent that gateways or partitions send with Execute. Everything else the
// engine processes (element activations, timer triggers, job time-outs...) it writes itself.
// Who may send it: a gateway (source partition 0) or another partition (its id). A command
// that claims a source partition is answered at once and exempt from backpressure, so a
// gateway command must not be able to claim one.
enum class Origin : uint8_t { kGateway = 1, kPartition = 2, kEither = 3 };
struct PeerCommand {
  record::ValueType value_type;
  int32_t intent;
  Origin origin = Origin::kGateway;
};
constexpr PeerCommand kPeerCommands[] = {
    // From gateways.
    {record::DEPLOYMENT, ToInt(DeploymentIntent::kCreate)},
    {record::PROCESS_INSTANCE_CREATION, ToInt(ProcessInstanceCreationIntent::kCreate)},
    {record::PROCESS_INSTANCE_CREATION,
     ToInt(ProcessInstanceCreationIntent::kCreateWithAwaitingResult)},
    {record::PROCESS_INSTANCE, ToInt(ProcessInstanceIntent::kCancel)},
    {record::JOB, ToInt(JobIntent::kComplete)},
    {record::JOB, ToInt(JobIntent::kFail)},
    {record::JOB, ToInt(JobIntent::kUpdateRetries)},
    {record::JOB, ToInt(JobIntent::kThrowError)},
    {record::JOB, ToInt(JobIntent::kYield)},
    {record::JOB, ToInt(JobIntent::kUpdateTimeout)},
    {record::JOB_BATCH, ToInt(JobBatchIntent::kActivate)},
    {record::VARIABLE_DOCUMENT, ToInt(VariableDocumentIntent::kUpdate)},
    {record::INCIDENT, ToInt(IncidentIntent::kResolve)},
    {record::MESSAGE, ToInt(MessageIntent::kPublish)},
    {record::SIGNAL, ToInt(SignalIntent::kBroadcast), Origin::kEither},  // partitions relay it
    {record::DECISION_EVALUATION, ToInt(DecisionEvaluationIntent::kEvaluate)},
    {record::PROCESS_INSTANCE_MODIFICATION, ToInt(ProcessInstanceModificationIntent::kModify)},
    {record::PROCESS_INSTANCE_MIGRATION, ToInt(ProcessInstanceMigrationIntent::kMigrate)},
    {record::RESOURCE_DELETION, ToInt(ResourceDeletionIntent::kDelete), Origin::kEither},
    // Native user tasks (REST /v2/user-tasks/...) and 8.8 message correlation.
    {record::USER_TASK, ToInt(UserTaskIntent::kAssign)},
    {record::USER_TASK, ToInt(UserTaskIntent::kClaim)},
    {record::USER_TASK, ToInt(UserTaskIntent::kUpdate)},
    {record::USER_TASK, ToInt(UserTaskIntent::kComplete)},
    {record::MESSAGE_CORRELATION, ToInt(MessageCorrelationIntent::kCorrelate)},
    // A backup's checkpoint, sent by the broker that took the backup request.
    {record::CHECKPOINT, ToInt(CheckpointIntent::kCreate)},
    // From other partitions: distributions, message correlation and their acknowledgements.
    {record::DEPLOYMENT, ToInt(DeploymentIntent::kDistribute), Origin::kPartition},
    {record::COMMAND_DISTRIBUTION, ToInt(CommandDistributionIntent::kAcknowledge),
     Origin::kPartition},
    {record::MESSAGE_SUBSCRIPTION, ToInt(MessageSubscriptionIntent::kCreate), Origin::kPartition},
    {record::MESSAGE_SUBSCRIPTION, ToInt(MessageSubscriptionIntent::kCorrelate),
     Origin::kPartition},
    {record::MESSAGE_SUBSCRIPTION, ToInt(MessageSubscriptionIntent::kReject), Origin::kPartition},
    {record::MESSAGE_SUBSCRIPTION, ToInt(MessageSubscriptionIntent::kDelete), Origin::kPartition},
    {record::PROCESS_MESSAGE_SUBSCRIPTION, ToInt(ProcessMessageSubscriptionIntent::kCorrelate),
     Origin::kPartition},
};

// Applies the gateway's variables limits to every `variables` field of `message`, nested
// instructions included (a modification carries one per activated element).
absl::Status CheckVariablesFields(const google::protobuf::Message& message,
                                  const gateway::RequestLimits& limits, int depth = 0) {
  // Record values nest a few levels at most; a deeper message is not one we define.
  if (depth > 8) return absl::InvalidArgumentError("record value nested too deeply");
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (field->type() == google::protobuf::FieldDescriptor::TYPE_STRING && !field->is_repeated() &&
        field->name() == "variables") {
      std::string scratch;
      const std::string& json = reflection->GetStringReference(message, field, &scratch);
      if (auto status =
              gateway::CheckVariables(json, StrCat(descriptor->name(), ".variables"), limits);
          !status.ok()) {
        return status;
      }
    } else if (field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int k = 0; k < reflection->FieldSize(message, field); ++k) {
          if (auto status = CheckVariablesFields(reflection->GetRepeatedMessage(message, field, k),
                                                 limits, depth + 1);
              !status.ok()) {
            return status;
          }
        }
      } else if (reflection->HasField(message, field)) {
        if (auto status =
                CheckVariablesFields(reflection->GetMessage(message, field), limits, depth + 1);
            !status.ok()) {
          return status;
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view RaftDropReasonName(RaftDropReason reason) {
  switch (reason) {
    case RaftDropReason::kUnknownPartition:
      return "unknown_partition";
    case RaftDropReason::kNotAMember:
      return "not_a_member";
    case RaftDropReason::kMalformed:
      return "malformed";
    case RaftDropReason::kUndecodableEntry:
      return "undecodable_entry";
  }
  return "unknown";
}

std::optional<RaftDrop> CheckRaftEnvelope(const cluster::RaftEnvelope& envelope,
                                          int32_t from_node_id, int32_t self_node_id,
                                          const std::vector<int32_t>& member_node_ids) {
  if (member_node_ids.empty()) {
    return Drop(
        RaftDropReason::kUnknownPartition,
        StrCat("partition ", envelope.partition_id(), " has no replica on node ", self_node_id));
  }
  const uint64_t from = RaftId(from_node_id);
  const uint64_t self = RaftId(self_node_id);
  if (from_node_id < 0 || from_node_id == self_node_id || !IsMember(from, member_node_ids)) {
    return Drop(
        RaftDropReason::kNotAMember,
        StrCat("node ", from_node_id, " is not a member of partition ", envelope.partition_id()));
  }
  switch (envelope.payload_case()) {
    case cluster::RaftEnvelope::kMessage:
      return CheckMessage(envelope.message(), from, self);
    case cluster::RaftEnvelope::kSnapshotChunk: {
      const raft::SnapshotChunk& chunk = envelope.snapshot_chunk();
      if (chunk.from() != from || chunk.to() != self) {
        return Drop(RaftDropReason::kNotAMember,
                    StrCat("snapshot chunk claims to be from ", chunk.from(), " to ", chunk.to()));
      }
      if (!chunk.done()) return std::nullopt;
      // The last chunk carries the MSG_SNAP that installs what the chunks stored: it must name
      // that same snapshot, or Raft would install state the broker does not have.
      const raft::Message& snap = chunk.message();
      if (snap.type() != raft::MSG_SNAP || snap.from() != from || snap.to() != self ||
          snap.term() == 0 || snap.snapshot().index() != chunk.snapshot().index() ||
          snap.snapshot().term() != chunk.snapshot().term()) {
        return Drop(RaftDropReason::kMalformed,
                    StrCat("last snapshot chunk for ", chunk.snapshot().index(),
                           " carries a mismatched ", raft::MessageType_Name(snap.type())));
      }
      return std::nullopt;
    }
    case cluster::RaftEnvelope::kSnapshotAck: {
      const raft::SnapshotChunkAck& ack = envelope.snapshot_ack();
      if (ack.from() != from || ack.to() != self) {
        return Drop(RaftDropReason::kNotAMember,
                    StrCat("snapshot ack claims to be from ", ack.from(), " to ", ack.to()));
      }
      return std::nullopt;
    }
    case cluster::RaftEnvelope::PAYLOAD_NOT_SET:
      break;
  }
  return Drop(RaftDropReason::kMalformed, "empty envelope");
}

absl::StatusOr<std::optional<record::RecordBatch>> DecodeEntry(const raft::Entry& entry) {
  switch (entry.type()) {
    case raft::ENTRY_EMPTY:
      if (entry.data().empty()) return std::nullopt;
      break;
    case raft::ENTRY_NORMAL: {
      if (entry.data().empty()) return std::nullopt;
      record::RecordBatch batch;
      if (batch.ParseFromString(entry.data())) return batch;
      return absl::DataLossError(StrCat("entry ", entry.index(), " (term ", entry.term(), ", ",
                                        entry.data().size(), " bytes) is not a record batch"));
    }
    default:
      break;
  }
  return absl::DataLossError(StrCat("entry ", entry.index(), " (term ", entry.term(), ") has type ",
                                    raft::EntryType_Name(entry.type()), " with ",
                                    entry.data().size(), " bytes, which this broker never writes"));
}

absl::Status CheckPeerCommand(const record::Record& command, int32_t partition_count) {
  if (command.record_type() != record::COMMAND) {
    return absl::InvalidArgumentError(StrCat("Expected a command, but the record is of type ",
                                             record::RecordType_Name(command.record_type())));
  }
  const record::ValueType value_type = engine::ValueTypeOfValue(command);
  const PeerCommand* known = std::find_if(
      std::begin(kPeerCommands), std::end(kPeerCommands), [&](const PeerCommand& allowed) {
        return allowed.value_type == value_type && allowed.intent == command.intent();
      });
  if (known == std::end(kPeerCommands)) {
    return absl::InvalidArgumentError(StrCat(
        "Expected a command that gateways or partitions send, but got ",
        record::ValueType_Name(value_type), " ", engine::IntentName(value_type, command.intent())));
  }
  const int32_t source = command.source_partition_id();
  const auto allows = [&](Origin origin) {
    return (static_cast<uint8_t>(known->origin) & static_cast<uint8_t>(origin)) != 0;
  };
  const bool from_gateway = source == 0 && allows(Origin::kGateway);
  const bool from_partition =
      source >= 1 && source <= partition_count && allows(Origin::kPartition);
  if (!from_gateway && !from_partition) {
    return absl::InvalidArgumentError(
        StrCat("Expected the source partition of ", record::ValueType_Name(value_type), " ",
               engine::IntentName(value_type, command.intent()), " to be ",
               allows(Origin::kGateway) ? "0 (a gateway)" : "",
               allows(Origin::kGateway) && allows(Origin::kPartition) ? " or " : "",
               allows(Origin::kPartition) ? StrCat("one of 1..", partition_count) : "",
               ", but it is ", source));
  }
  if (value_type == record::DEPLOYMENT &&
      command.intent() == ToInt(DeploymentIntent::kDistribute)) {
    if (auto status = engine::CheckDistributedDeployment(command.deployment()); !status.ok()) {
      return status;
    }
  }
  const gateway::RequestLimits limits;
  if (value_type == record::JOB_BATCH &&
      command.job_batch().max_jobs_to_activate() > limits.max_jobs_to_activate) {
    return absl::InvalidArgumentError(StrCat("Expected to activate at most ",
                                             limits.max_jobs_to_activate, " jobs, but asked for ",
                                             command.job_batch().max_jobs_to_activate()));
  }
  const auto* descriptor = command.GetDescriptor();
  const auto* value_field = descriptor->FindFieldByNumber(static_cast<int>(command.value_case()));
  if (value_field == nullptr) return absl::OkStatus();
  return CheckVariablesFields(command.GetReflection()->GetMessage(command, value_field), limits);
}

}  // namespace tern::broker
