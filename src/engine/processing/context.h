#pragma once

// What a processor sees while it handles one command: read access to state, the batch
// timestamp, a key generator, and writers for events, rejections, answers and follow-up
// commands. Writing an event applies it to state immediately (through the event appliers), so
// later reads in the same batch see it.

#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include "base/check.h"
#include "engine/appliers.h"
#include "engine/engine.h"
#include "engine/processing/process_cache.h"
#include "engine/record_values.h"
#include "engine/state/engine_state.h"

namespace tern::engine {

class ProcessingContext {
 public:
  ProcessingContext(const EngineConfig& config, state::EngineState& state, ProcessCache& processes,
                    EventAppliers& appliers, JobStreamRegistry* job_streams)
      : config_(config),
        state_(state),
        processes_(processes),
        appliers_(appliers),
        job_streams_(job_streams) {}

  const EngineConfig& config() const { return config_; }
  state::EngineState& state() { return state_; }
  ProcessCache& processes() { return processes_; }
  JobStreamRegistry* job_streams() { return job_streams_; }
  int64_t timestamp() const { return timestamp_; }
  int32_t partition_id() const { return config_.partition_id; }

  // A new key on this partition: (partition id << 51) + counter. The counter is persisted by
  // the appliers of the events that carry the key, so a new leader continues after it.
  int64_t NextKey() { return ++last_key_; }

  // The command being processed.
  const record::Record& command() const { return *command_; }

  // Writes an event and applies it to state.
  template <typename IntentEnum, typename Value>
  const record::Record& AppendEvent(int64_t key, IntentEnum intent, Value&& value) {
    record::Record& event = NewRecord(key, record::EVENT);
    event.set_intent(ToInt(intent));
    SetValue(event, std::forward<Value>(value));
    Apply(event);
    return event;
  }

  // Writes an event that remembers the current command's request, for an answer given later
  // (CreateProcessInstanceWithResult answers when the instance completes).
  template <typename IntentEnum, typename Value>
  const record::Record& AppendEventRememberingRequest(int64_t key, IntentEnum intent,
                                                      Value&& value) {
    record::Record& event = NewRecord(key, record::EVENT);
    event.set_intent(ToInt(intent));
    event.set_request_stream_id(command_->request_stream_id());
    event.set_request_id(command_->request_id());
    SetValue(event, std::forward<Value>(value));
    Apply(event);
    return event;
  }

  // Writes the rejection of the current command and answers its request with it.
  void Reject(record::RejectionType type, std::string reason) {
    record::Record& rejection = NewRecord(command_->key(), record::COMMAND_REJECTION);
    int64_t position = rejection.position();
    rejection = *command_;
    rejection.set_position(position);
    rejection.set_record_type(record::COMMAND_REJECTION);
    rejection.set_source_record_position(command_position_);
    rejection.set_has_request(false);
    rejection.set_rejection_type(type);
    rejection.set_rejection_reason(std::move(reason));
    Respond(rejection);
  }

  // Answers the current command's request (no-op for commands without a request).
  void Respond(const record::Record& answer) {
    if (!command_->has_request()) return;
    RespondTo(command_->request_stream_id(), command_->request_id(), answer);
  }

  void RespondTo(int32_t stream_id, int64_t request_id, record::Record answer) {
    output_.responses.push_back(Response{stream_id, request_id, std::move(answer)});
  }

  // Queues an internal command to be processed after the current one.
  void FollowUp(record::Record command) {
    command.set_chain_depth(command_ != nullptr ? command_->chain_depth() + 1 : 1);
    follow_ups_.push_back(std::move(command));
  }

  // Sends a command to a partition, reliably: to this partition it is a follow-up (processed in
  // this batch or a later one); to another partition it is kept pending in state (COMMAND
  // DISTRIBUTION DISTRIBUTING) and sent again until the receiver acknowledges it. Returns the
  // distribution key (0 for this partition), which CancelPending takes.
  int64_t SendCommand(int32_t partition_id, record::Record command) {
    if (partition_id == config_.partition_id) {
      command.set_source_partition_id(config_.partition_id);
      FollowUp(std::move(command));
      return 0;
    }
    int64_t distribution_key = NextKey();
    command.set_distribution_key(distribution_key);
    command.set_source_partition_id(config_.partition_id);
    record::CommandDistributionRecord pending;
    pending.set_partition_id(partition_id);
    pending.set_value_type(command.value_type());
    pending.set_intent(command.intent());
    TERN_CHECK(command.SerializeToString(pending.mutable_command_value()));
    AppendEvent(distribution_key, CommandDistributionIntent::kDistributing, pending);
    SendToPartition(partition_id, std::move(command));
    return distribution_key;
  }

  // Stops sending a pending command (it became pointless, e.g. a subscription that was deleted
  // before the receiver acknowledged its creation).
  void CancelPending(int64_t distribution_key, int32_t partition_id) {
    if (distribution_key <= 0 || !state_.distributions.Contains(distribution_key, partition_id)) {
      return;
    }
    record::CommandDistributionRecord canceled;
    canceled.set_partition_id(partition_id);
    AppendEvent(distribution_key, CommandDistributionIntent::kAcknowledged, std::move(canceled));
  }

  void NotifyJobsAvailable(const std::string& type) { output_.jobs_available.push_back(type); }
  void SendToPartition(int32_t partition_id, record::Record command) {
    output_.outgoing_commands.push_back(OutgoingCommand{partition_id, std::move(command)});
  }
  void PushJob(PushedJob job) { output_.pushed_jobs.push_back(std::move(job)); }

  // --- Used by the engine to drive a batch ---
  void BeginBatch(int64_t timestamp, int64_t next_position, int64_t last_key) {
    timestamp_ = timestamp;
    last_key_ = last_key;
    next_position_ = next_position;
    output_ = BatchOutput{};
    evaluations_ = 0;
    output_.batch.set_first_position(next_position);
  }
  // Writes a command record to the log and makes it the current command.
  const record::Record& BeginCommand(record::Record command) {
    TERN_CHECK(command.record_type() == record::COMMAND);
    record::Record& written = NewRecord(command.key(), record::COMMAND);
    int64_t position = written.position();
    written = std::move(command);
    written.set_position(position);
    written.set_timestamp(timestamp_);
    written.set_partition_id(config_.partition_id);
    command_ = &written;
    command_position_ = position;
    output_.batch.add_processed_command_positions(position);
    return written;
  }
  // Makes an already-logged command (a deferred follow-up) the current command.
  void BeginLoggedCommand(const record::Record& command) {
    scratch_command_ = command;
    command_ = &scratch_command_;
    command_position_ = command.position();
    output_.batch.add_processed_command_positions(command.position());
  }
  // Makes a follow-up command the current command; it is processed without being logged.
  void BeginFollowUp(record::Record command) {
    scratch_command_ = std::move(command);
    scratch_command_.set_position(command_position_);
    scratch_command_.set_has_request(false);
    command_ = &scratch_command_;
  }
  // A seed for FEEL's random functions, unique per evaluation and identical on replay.
  uint64_t NextRandomSeed() {
    return (static_cast<uint64_t>(command_position_) << 20) + (++evaluations_);
  }
  // Writes a follow-up command to the log unprocessed, for a later batch.
  const record::Record& Defer(record::Record command) {
    record::Record& written = NewRecord(command.key(), record::COMMAND);
    int64_t position = written.position();
    written = std::move(command);
    written.set_position(position);
    written.set_timestamp(timestamp_);
    written.set_partition_id(config_.partition_id);
    written.set_source_record_position(command_position_);
    return written;
  }
  std::deque<record::Record>& follow_ups() { return follow_ups_; }
  int64_t next_position() const { return next_position_; }
  int64_t last_key() const { return last_key_; }
  BatchOutput TakeOutput() {
    command_ = nullptr;
    return std::move(output_);
  }

 private:
  record::Record& NewRecord(int64_t key, record::RecordType type) {
    record::Record* record = output_.batch.add_records();
    record->set_position(next_position_++);
    record->set_key(key);
    record->set_record_type(type);
    record->set_timestamp(timestamp_);
    record->set_partition_id(config_.partition_id);
    record->set_source_record_position(command_ ? command_position_ : -1);
    return *record;
  }

  void Apply(const record::Record& event) { appliers_.Apply(event); }

  const EngineConfig& config_;
  state::EngineState& state_;
  ProcessCache& processes_;
  EventAppliers& appliers_;
  JobStreamRegistry* job_streams_;

  int64_t timestamp_ = 0;
  int64_t next_position_ = 1;
  int64_t command_position_ = -1;
  int64_t last_key_ = 0;
  uint64_t evaluations_ = 0;
  const record::Record* command_ = nullptr;
  record::Record scratch_command_;
  std::deque<record::Record> follow_ups_;
  BatchOutput output_;
};

}  // namespace tern::engine
