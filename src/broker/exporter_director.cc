#include "broker/exporter_director.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>

#include "base/strings.h"

namespace tern::broker {
namespace {

// Records one exporter takes per round before the others get their turn.
constexpr int kRecordsPerRound = 1'000;
// Raw entries waiting to be decoded beyond which the partition stops offering.
constexpr size_t kMaxOfferedEntries = 4'096;

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Exporters are plugins: an exception from one must not take the broker down; it counts as a
// failed call.
template <typename Call>
absl::Status Guarded(Call call) {
  try {
    return call();
  } catch (const std::exception& error) {
    return absl::InternalError(StrCat("exception: ", error.what()));
  } catch (...) {
    return absl::InternalError("unknown exception");
  }
}

}  // namespace

struct ExporterDirector::Slot {
  exporter::ExporterSpec spec;
  std::unique_ptr<exporter::Exporter> exporter;
  std::unique_ptr<SlotController> controller;
  bool open = false;
  int64_t acknowledged = 0;
  int64_t acknowledged_timestamp = 0;
  // The last record given to Export since Open, and when it was written.
  int64_t cursor = 0;
  int64_t cursor_timestamp = 0;
  int64_t flushed_cursor = 0;
  int64_t flushed_at_ms = 0;
  int64_t retry_at_ms = 0;
  int64_t backoff_ms = 0;
  uint64_t errors = 0;
  uint64_t exported = 0;
};

class ExporterDirector::SlotController : public exporter::Controller {
 public:
  explicit SlotController(Slot& slot) : slot_(slot) {}
  void AcknowledgePosition(int64_t position) override {
    if (position <= slot_.acknowledged) return;
    slot_.acknowledged = position;
    if (position >= slot_.cursor) slot_.acknowledged_timestamp = slot_.cursor_timestamp;
  }
  int64_t acknowledged_position() const override { return slot_.acknowledged; }

 private:
  Slot& slot_;
};

absl::StatusOr<std::shared_ptr<ExporterDirector>> ExporterDirector::Create(
    int32_t partition_id, const ExporterOptions& options, ExporterFactory factory) {
  std::shared_ptr<ExporterDirector> director(new ExporterDirector(partition_id, options));
  for (const auto& spec : options.exporters) {
    for (const auto& slot : director->slots_) {
      if (slot->spec.id == spec.id) {
        return absl::InvalidArgumentError(StrCat("exporter '", spec.id, "' is configured twice"));
      }
    }
    auto created = factory(spec.type);
    if (!created.ok()) {
      return absl::InvalidArgumentError(
          StrCat("exporter '", spec.id, "': ", ToStd(created.status().message())));
    }
    exporter::ExporterContext context;
    context.spec = spec;
    context.partition_id = partition_id;
    context.data_dir = options.data_dir;
    absl::Status configured = Guarded([&] { return (*created)->Configure(context); });
    if (!configured.ok()) {
      return absl::Status(configured.code(),
                          StrCat("exporter '", spec.id, "': ", ToStd(configured.message())));
    }
    auto slot = std::make_unique<Slot>();
    slot->spec = spec;
    slot->exporter = *std::move(created);
    slot->controller = std::make_unique<SlotController>(*slot);
    director->slots_.push_back(std::move(slot));
    ExporterMetrics metrics;
    metrics.id = spec.id;
    director->metrics_.push_back(metrics);
  }
  director->thread_ = std::thread([raw = director.get()] { raw->Run(); });
  return director;
}

ExporterDirector::ExporterDirector(int32_t partition_id, ExporterOptions options)
    : partition_id_(partition_id), options_(std::move(options)) {}

ExporterDirector::~ExporterDirector() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ExporterDirector::Activate(const std::map<std::string, int64_t>& acknowledged) {
  std::lock_guard lock(mutex_);
  active_ = true;
  ++generation_;
  activated_positions_ = acknowledged;
  offered_.clear();
  buffered_records_ = 0;
  progress_ = Progress{};
  for (const auto& slot : slots_) {
    auto it = acknowledged.find(slot->spec.id);
    progress_.acknowledged[slot->spec.id] = it == acknowledged.end() ? 0 : it->second;
  }
  busy_ = true;
  wakeup_.notify_all();
}

void ExporterDirector::Deactivate() {
  std::lock_guard lock(mutex_);
  if (!active_) return;
  active_ = false;
  ++generation_;
  offered_.clear();
  buffered_records_ = 0;
  wakeup_.notify_all();
}

bool ExporterDirector::active() const {
  std::lock_guard lock(mutex_);
  return active_;
}

bool ExporterDirector::WantsMore() const {
  std::lock_guard lock(mutex_);
  return active_ && offered_.size() < kMaxOfferedEntries &&
         buffered_records_ < options_.max_buffered_records;
}

void ExporterDirector::Offer(uint64_t index, std::string data) {
  std::lock_guard lock(mutex_);
  if (!active_) return;
  offered_.emplace_back(index, std::move(data));
  busy_ = true;
  wakeup_.notify_all();
}

ExporterDirector::Progress ExporterDirector::progress() const {
  std::lock_guard lock(mutex_);
  return progress_;
}

std::vector<ExporterMetrics> ExporterDirector::Metrics() const {
  std::lock_guard lock(mutex_);
  return metrics_;
}

bool ExporterDirector::WaitIdle(int64_t timeout_ms) const {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return !busy_ && offered_.empty(); });
}

void ExporterDirector::Fail(Slot& slot, const absl::Status& status, const char* call) {
  ++slot.errors;
  slot.backoff_ms = slot.backoff_ms == 0 ? options_.min_retry_ms
                                         : std::min(2 * slot.backoff_ms, options_.max_retry_ms);
  slot.retry_at_ms = NowMillis() + slot.backoff_ms;
  spdlog::warn(
      "partition {}: exporter '{}' failed in {} ({} errors so far; retrying in {} ms from "
      "position {}): {}",
      partition_id_, slot.spec.id, call, slot.errors, slot.backoff_ms, slot.acknowledged + 1,
      status.ToString());
  if (slot.open) {
    (void)Guarded([&] {
      slot.exporter->Close();
      return absl::OkStatus();
    });
  }
  slot.open = false;
  slot.cursor = slot.acknowledged;
  slot.flushed_cursor = slot.acknowledged;
}

bool ExporterDirector::Round() {
  bool did = false;
  const int64_t now = NowMillis();
  for (auto& slot_ptr : slots_) {
    Slot& slot = *slot_ptr;
    if (!slot.open) {
      if (now < slot.retry_at_ms) continue;
      absl::Status opened = Guarded([&] { return slot.exporter->Open(slot.controller.get()); });
      if (!opened.ok()) {
        Fail(slot, opened, "open");
        continue;
      }
      slot.open = true;
      slot.cursor = slot.acknowledged;
      slot.flushed_cursor = slot.acknowledged;
      did = true;
    }
    int exported = 0;
    bool failed = false;
    // Entries are in position order: skip those this exporter is past.
    auto entry = std::partition_point(entries_.begin(), entries_.end(), [&](const Entry& e) {
      return e.last_position <= slot.cursor;
    });
    for (; entry != entries_.end() && exported < kRecordsPerRound && !failed; ++entry) {
      for (const auto& record : entry->records) {
        if (record.position() <= slot.cursor) continue;
        absl::Status status = Guarded([&] { return slot.exporter->Export(record); });
        if (!status.ok()) {
          Fail(slot, status, "export");
          failed = true;
          break;
        }
        slot.cursor = record.position();
        slot.cursor_timestamp = record.timestamp();
        ++slot.exported;
        ++exported;
      }
    }
    if (failed) continue;
    if (exported > 0) did = true;
    // Caught up with everything offered: make it durable now rather than when the next batch
    // fills up, so an idle partition's export completes.
    if (slot.cursor >= last_offered_position_ && slot.flushed_cursor < slot.cursor &&
        now - slot.flushed_at_ms >= options_.min_flush_interval_ms) {
      absl::Status flushed = Guarded([&] { return slot.exporter->Flush(); });
      if (!flushed.ok()) {
        Fail(slot, flushed, "flush");
        continue;
      }
      slot.flushed_cursor = slot.cursor;
      slot.flushed_at_ms = now;
      did = true;
    }
    if (slot.acknowledged >= slot.cursor) slot.backoff_ms = 0;
  }
  return did;
}

void ExporterDirector::DropExported() {
  int64_t slowest = INT64_MAX;
  for (const auto& slot : slots_) slowest = std::min(slowest, slot->acknowledged);
  while (!entries_.empty() && entries_.front().last_position <= slowest) {
    exported_index_ = std::max(exported_index_, entries_.front().index);
    entries_.pop_front();
  }
}

void ExporterDirector::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (generation_ != seen_generation_) {
      seen_generation_ = generation_;
      const bool active = active_;
      const auto positions = activated_positions_;
      lock.unlock();
      for (auto& slot : slots_) {
        if (slot->open) {
          (void)Guarded([&] {
            slot->exporter->Close();
            return absl::OkStatus();
          });
        }
        slot->open = false;
        auto it = positions.find(slot->spec.id);
        slot->acknowledged = it == positions.end() ? 0 : it->second;
        slot->acknowledged_timestamp = 0;
        slot->cursor = slot->flushed_cursor = slot->acknowledged;
        slot->retry_at_ms = 0;
        slot->backoff_ms = 0;
      }
      entries_.clear();
      last_offered_position_ = 0;
      last_offered_timestamp_ = 0;
      last_offered_index_ = 0;
      exported_index_ = 0;
      (void)active;
      lock.lock();
      for (auto& m : metrics_) {
        m.lag_records = 0;
        m.lag_seconds = 0;
        m.failing = false;
      }
      continue;
    }
    if (!active_) {
      busy_ = false;
      idle_.notify_all();
      wakeup_.wait(lock);
      continue;
    }
    const uint64_t generation = generation_;
    auto raw = std::move(offered_);
    offered_.clear();
    lock.unlock();

    for (auto& [index, data] : raw) {
      if (index <= last_offered_index_) continue;  // offered again after a re-read
      last_offered_index_ = index;
      record::RecordBatch batch;
      Entry entry;
      entry.index = index;
      if (!data.empty() && !batch.ParseFromString(data)) {
        // Committed entries were decoded before they were applied; this cannot happen unless
        // memory is corrupt. Not exporting it is the safe choice over stopping export.
        spdlog::error("partition {}: exporter director cannot decode entry {}", partition_id_,
                      index);
      }
      entry.records.assign(std::make_move_iterator(batch.mutable_records()->begin()),
                           std::make_move_iterator(batch.mutable_records()->end()));
      if (!entry.records.empty()) {
        last_offered_position_ = entry.records.back().position();
        last_offered_timestamp_ = entry.records.back().timestamp();
      }
      entry.last_position = last_offered_position_;
      entries_.push_back(std::move(entry));
    }
    const bool did = Round();
    DropExported();

    lock.lock();
    if (generation != generation_) continue;  // re-activated meanwhile: start over
    size_t records = 0;
    for (const auto& entry : entries_) records += entry.records.size();
    buffered_records_ = records;
    progress_.exported_index = exported_index_;
    bool caught_up = true;
    int64_t next_retry_ms = -1;
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& slot = *slots_[i];
      progress_.acknowledged[slot.spec.id] = slot.acknowledged;
      ExporterMetrics& m = metrics_[i];
      m.acknowledged_position = slot.acknowledged;
      m.lag_records = std::max<int64_t>(0, last_offered_position_ - slot.acknowledged);
      int64_t acknowledged_timestamp = slot.acknowledged_timestamp;
      if (acknowledged_timestamp == 0 && !entries_.empty() && !entries_.front().records.empty()) {
        acknowledged_timestamp = entries_.front().records.front().timestamp();
      }
      m.lag_seconds =
          m.lag_records == 0 || acknowledged_timestamp == 0
              ? 0.0
              : std::max<int64_t>(0, last_offered_timestamp_ - acknowledged_timestamp) / 1000.0;
      m.errors = slot.errors;
      m.exported_records = slot.exported;
      m.failing = !slot.open && slot.retry_at_ms > 0;
      if (!slot.open || slot.acknowledged < last_offered_position_) caught_up = false;
      if (!slot.open && (next_retry_ms < 0 || slot.retry_at_ms < next_retry_ms)) {
        next_retry_ms = slot.retry_at_ms;
      }
    }
    if (did || !offered_.empty()) continue;
    busy_ = !caught_up;
    if (caught_up) idle_.notify_all();
    // Nothing to do until an entry is offered or a failed exporter's retry is due. An exporter
    // that has records it has not acknowledged (it batches) gets its Flush on the next round.
    int64_t wait_ms = next_retry_ms < 0 ? 1'000 : std::max<int64_t>(1, next_retry_ms - NowMillis());
    for (const auto& slot : slots_) {
      if (slot->open && slot->flushed_cursor < slot->cursor) {
        wait_ms = std::min(
            wait_ms, std::max<int64_t>(
                         1, slot->flushed_at_ms + options_.min_flush_interval_ms - NowMillis()));
      }
    }
    wakeup_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(wait_ms, 1'000)));
  }
  lock.unlock();
  for (auto& slot : slots_) {
    if (slot->open) {
      (void)Guarded([&] {
        slot->exporter->Close();
        return absl::OkStatus();
      });
    }
    slot->open = false;
  }
}

}  // namespace tern::broker
