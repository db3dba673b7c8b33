#pragma once

// The engine of one partition: a stream processor that turns commands into events.
//
// On the partition leader the broker feeds client commands in batches: BeginBatch, any number
// of Process* calls, EndBatch. Processing validates each command against state and either
// rejects it or writes events; every event is applied to state at once by the event appliers,
// which are the only code that changes state. EndBatch returns the records to append to the log
// as one entry, plus the answers and notifications to release once that entry is committed.
//
// On followers (and during recovery) ApplyBatch runs the same appliers over committed batches,
// so a follower's state is current when it becomes leader. Processing never runs there.
//
// The engine reads no clock and no randomness: the batch timestamp the leader passes in is the
// only "now", and keys come from the key generator in state. Replaying the log therefore
// rebuilds identical state (StateChecksum).
//
// Threading: single-threaded; owned and driven by the partition thread.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/state/store.h"
#include "tern/record.pb.h"

namespace tern::engine {

struct EngineConfig {
  int32_t partition_id = 1;
  int32_t partition_count = 1;
  // Follow-up commands (element activations, completions, ...) processed in the same batch as
  // the command that caused them; the rest are written to the log and processed in later
  // batches, so one long chain of work never starves other commands (Zeebe's
  // maxCommandsInBatch plays the same role).
  int32_t max_follow_ups_per_batch = 2000;
  // Budget of one FEEL evaluation.
  int64_t feel_max_steps = 1'000'000;
  // Largest variable document accepted (bytes of JSON).
  int64_t max_variables_bytes = 1 << 20;
  // The gateway's largest gRPC message (Zeebe's maxMessageSize, 4 MiB by default). An
  // activated job batch, or a pushed job, must fit in it; a job that cannot fit alone raises a
  // MESSAGE_SIZE_EXCEEDED incident instead of blocking its type. Passed in as configuration so
  // that activation stays deterministic.
  int64_t max_message_bytes = 4 << 20;
  // Follow-up commands one command may lead to in a row (across batches) before the element
  // being activated raises an incident: bounds loops without a wait state (Zeebe has no such
  // bound; see docs/bpmn-coverage.md).
  int32_t max_follow_up_chain = 10'000;
  // Largest multi-instance input collection; larger ones raise an incident.
  int64_t max_multi_instance_items = 100'000;
  // Inner instances of a parallel multi-instance body activated per command.
  int32_t multi_instance_batch_size = 100;
};

// A reply to a client request, released once the batch that produced it is committed.
struct Response {
  int32_t request_stream_id = 0;
  int64_t request_id = 0;
  // The event answering the command, or the COMMAND_REJECTION.
  record::Record record;
};

// Job streams opened by workers (StreamActivatedJobs). The broker implements this; the engine
// asks it which stream, if any, should receive a job that just became activatable. The answer
// is recorded in the activation event, so replay never asks again.
class JobStreamRegistry {
 public:
  struct Stream {
    int64_t stream_id = 0;
    std::string worker;
    int64_t timeout_ms = 0;
    std::vector<std::string> fetch_variables;
  };
  virtual ~JobStreamRegistry() = default;
  virtual std::optional<Stream> Pick(std::string_view job_type, std::string_view tenant_id) = 0;
};

// A job activated for a stream, to push to that stream once committed.
struct PushedJob {
  int64_t stream_id = 0;
  int64_t job_key = 0;
  record::JobRecord job;  // with the variables the stream asked for
};

// A command for another partition of the cluster, sent by the broker once the batch that
// produced it is committed (and again until acknowledged, for distributions).
struct OutgoingCommand {
  int32_t partition_id = 0;
  record::Record command;
};

// Whether a batch must be appended to the log: it wrote records, or it consumed deferred
// commands (which its replicas must drop as well).
inline bool BatchHasContent(const record::RecordBatch& batch) {
  return batch.records_size() > 0 || batch.processed_command_positions_size() > 0;
}

struct BatchOutput {
  // The records to append as one log entry; nothing to append unless BatchHasContent.
  record::RecordBatch batch;
  std::vector<Response> responses;
  std::vector<PushedJob> pushed_jobs;
  // Job types that got activatable jobs (wakes long-polling ActivateJobs requests).
  std::vector<std::string> jobs_available;
  std::vector<OutgoingCommand> outgoing_commands;
};

class Engine {
 public:
  Engine(EngineConfig config, state::StateStore& store, JobStreamRegistry* job_streams);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- Leader side ---------------------------------------------------------------------------
  // Starts a batch stamped with `timestamp_ms` (the leader's wall clock).
  void BeginBatch(int64_t timestamp_ms);
  // Processes a command from a client. `command.record_type()` must be COMMAND; its value,
  // intent and request fields are set by the caller.
  void ProcessClientCommand(record::Record command);
  // Processes follow-up commands left over from earlier batches.
  void ProcessDeferredCommands();
  // Writes and processes the time-based commands that are due at the batch timestamp: job
  // timeouts, the end of retry backoffs, due timers and expired messages.
  void ProcessDueWork();
  // Commits the batch's state changes and hands out what it produced.
  BatchOutput EndBatch();

  bool has_deferred_commands();
  // Follow-up commands written to the log and not processed yet (the backlog that the
  // follow-up budget spreads over later batches).
  size_t deferred_command_count();
  // The earliest time at which ProcessDueWork has something to do, if anything.
  std::optional<int64_t> NextDueTime();

  // --- Follower and recovery side ------------------------------------------------------------
  // Applies the events of a batch written by a leader (this node in an earlier term, or
  // another node). Batches must be applied in log order.
  void ApplyBatch(const record::RecordBatch& batch);

  // Commands for other partitions that are not acknowledged yet (deployment distributions,
  // and any later kind of cross-partition command that must arrive): the leader sends them
  // again when it takes over and every few seconds. Receivers must treat repeats as no-ops.
  std::vector<OutgoingCommand> PendingOutgoingCommands();

  // Open incidents (key and record), oldest first, at most `limit`. For operators' queries.
  std::vector<std::pair<int64_t, record::IncidentRecord>> OpenIncidents(size_t limit);

  // Native user tasks in this partition's state (open ones: completed and canceled tasks leave
  // state), for the broker's reads. Between batches only (the partition thread), so they see
  // every command processed so far. QueryUserTasks returns at most query.limit tasks (100 when
  // 0, never more than 1,000) with a key above query.after_key, in key order.
  std::optional<record::UserTaskView> GetUserTask(int64_t user_task_key);
  record::UserTaskQueryResult QueryUserTasks(const record::UserTaskQuery& query);

  int64_t last_position() const;
  // Digest of all state; equal on replicas at the same position, and after a replay.
  uint64_t StateChecksum();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tern::engine
