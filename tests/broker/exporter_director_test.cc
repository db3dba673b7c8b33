// The exporter director on its own, with exporters that record what they get: records arrive in
// log order, acknowledged positions come back, re-activation resumes after them, and a sink
// that fails or throws is retried with backoff while the others go on.

#include "broker/exporter_director.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "base/strings.h"

namespace tern::broker {
namespace {

// What every test exporter saw, shared with the test (the exporter itself belongs to the
// director's thread).
struct Seen {
  std::mutex mutex;
  std::vector<int64_t> positions;          // every Export, in call order
  std::vector<std::vector<int64_t>> runs;  // the same, one list per Open
  int opens = 0;
  int closes = 0;
  std::vector<int64_t> Positions() {
    std::lock_guard lock(mutex);
    return positions;
  }
  std::vector<int64_t> LastRun() {
    std::lock_guard lock(mutex);
    return runs.empty() ? std::vector<int64_t>{} : runs.back();
  }
};

// Acknowledges at Flush. Fails (or throws) on `fail_at` for the first `failures` attempts.
class RecordingExporter : public exporter::Exporter {
 public:
  RecordingExporter(Seen& seen, int64_t fail_at, int failures, bool throws, bool acknowledges)
      : seen_(seen),
        fail_at_(fail_at),
        failures_(failures),
        throws_(throws),
        acknowledges_(acknowledges) {}
  absl::Status Configure(const exporter::ExporterContext&) override { return absl::OkStatus(); }
  absl::Status Open(exporter::Controller* controller) override {
    controller_ = controller;
    std::lock_guard lock(seen_.mutex);
    ++seen_.opens;
    seen_.runs.emplace_back();
    return absl::OkStatus();
  }
  absl::Status Export(const record::Record& record) override {
    if (record.position() == fail_at_ && failures_ > 0) {
      --failures_;
      if (throws_) throw std::runtime_error("sink exploded");
      return absl::UnavailableError("sink down");
    }
    last_ = record.position();
    std::lock_guard lock(seen_.mutex);
    seen_.positions.push_back(record.position());
    seen_.runs.back().push_back(record.position());
    return absl::OkStatus();
  }
  absl::Status Flush() override {
    if (acknowledges_ && last_ > 0) controller_->AcknowledgePosition(last_);
    return absl::OkStatus();
  }
  void Close() override {
    std::lock_guard lock(seen_.mutex);
    ++seen_.closes;
  }

 private:
  Seen& seen_;
  int64_t fail_at_;
  int failures_;
  bool throws_;
  bool acknowledges_;
  exporter::Controller* controller_ = nullptr;
  int64_t last_ = 0;
};

struct TestExporter {
  std::string id;
  int64_t fail_at = -1;
  int failures = 0;
  bool throws = false;
  bool acknowledges = true;
};

class ExporterDirectorTest : public ::testing::Test {
 protected:
  std::shared_ptr<ExporterDirector> Create(std::vector<TestExporter> exporters,
                                           size_t max_buffered_records = 50'000) {
    ExporterOptions options;
    options.min_retry_ms = 10;
    options.max_retry_ms = 40;
    options.max_buffered_records = max_buffered_records;
    for (const auto& e : exporters) {
      options.exporters.push_back({e.id, e.id, {}});
      seen_[e.id];
    }
    auto director = ExporterDirector::Create(
        1, options,
        [this,
         exporters](std::string_view type) -> absl::StatusOr<std::unique_ptr<exporter::Exporter>> {
          for (const auto& e : exporters) {
            if (e.id == type) {
              return std::make_unique<RecordingExporter>(seen_[e.id], e.fail_at, e.failures,
                                                         e.throws, e.acknowledges);
            }
          }
          return absl::NotFoundError("no such exporter");
        });
    EXPECT_TRUE(director.ok()) << director.status();
    return *director;
  }

  // Log entries 1..entries, each with `per_entry` records, positions from 1; every fifth entry
  // has no records (like the exporter-position entries the partition writes itself).
  void OfferLog(ExporterDirector& director, uint64_t entries, int per_entry, uint64_t from = 1) {
    int64_t position = 0;
    for (uint64_t index = 1; index <= entries; ++index) {
      record::RecordBatch batch;
      if (index % 5 != 0) {
        for (int i = 0; i < per_entry; ++i) {
          auto* record = batch.add_records();
          record->set_position(++position);
          record->set_timestamp(1'000 * position);
        }
      }
      if (index < from) continue;
      director.Offer(index, batch.SerializeAsString());
    }
    last_position_ = position;
  }

  static std::vector<int64_t> Range(int64_t first, int64_t last) {
    std::vector<int64_t> range;
    for (int64_t p = first; p <= last; ++p) range.push_back(p);
    return range;
  }

  std::map<std::string, Seen> seen_;
  int64_t last_position_ = 0;
};

TEST_F(ExporterDirectorTest, DeliversEveryRecordInLogOrderAndReportsAcknowledgements) {
  auto director = Create({{"a"}, {"b"}});
  director->Activate({});
  OfferLog(*director, 40, 3);
  ASSERT_TRUE(director->WaitIdle(10'000));
  EXPECT_EQ(seen_["a"].Positions(), Range(1, last_position_));
  EXPECT_EQ(seen_["b"].Positions(), Range(1, last_position_));
  auto progress = director->progress();
  EXPECT_EQ(progress.acknowledged["a"], last_position_);
  EXPECT_EQ(progress.acknowledged["b"], last_position_);
  EXPECT_EQ(progress.exported_index, 40u);
  for (const auto& m : director->Metrics()) {
    EXPECT_EQ(m.acknowledged_position, last_position_);
    EXPECT_EQ(m.lag_records, 0);
    EXPECT_EQ(m.errors, 0u);
  }
}

TEST_F(ExporterDirectorTest, NewLeaderResumesAfterTheAcknowledgedPositions) {
  auto director = Create({{"a"}, {"b"}});
  // A new leader: "a" had acknowledged 10, "b" 25; the log is offered from the start.
  director->Activate({{"a", 10}, {"b", 25}});
  OfferLog(*director, 20, 2);
  ASSERT_TRUE(director->WaitIdle(10'000));
  EXPECT_EQ(seen_["a"].Positions(), Range(11, last_position_));
  EXPECT_EQ(seen_["b"].Positions(), Range(26, last_position_));

  // Leadership lost and won again with older replicated positions: records after them come
  // again (at least once), in order, and nothing before them.
  director->Deactivate();
  director->Activate({{"a", 30}, {"b", 30}});
  OfferLog(*director, 20, 2, /*from=*/15);
  ASSERT_TRUE(director->WaitIdle(10'000));
  EXPECT_EQ(seen_["a"].LastRun(), Range(31, last_position_));
  EXPECT_EQ(director->progress().acknowledged["a"], last_position_);
  EXPECT_GE(seen_["a"].closes, 1);
}

TEST_F(ExporterDirectorTest, ASinkThatThrowsIsRetriedWithBackoffWhileTheOthersGoOn) {
  auto director = Create({{"good"}, {"bad", /*fail_at=*/7, /*failures=*/3, /*throws=*/true}});
  director->Activate({});
  OfferLog(*director, 10, 2);
  ASSERT_TRUE(director->WaitIdle(10'000));
  // The good exporter saw everything once, in order.
  EXPECT_EQ(seen_["good"].Positions(), Range(1, last_position_));
  // The bad one was opened again after each failure and got everything after the position it
  // had acknowledged again, in order; together its runs cover every record.
  auto last_run = seen_["bad"].LastRun();
  ASSERT_FALSE(last_run.empty());
  EXPECT_LE(last_run.front(), 7);
  EXPECT_EQ(last_run, Range(last_run.front(), last_position_));
  EXPECT_EQ(seen_["bad"].opens, 4);
  auto all = seen_["bad"].Positions();
  std::set<int64_t> covered(all.begin(), all.end());
  EXPECT_EQ(covered.size(), static_cast<size_t>(last_position_));
  auto metrics = director->Metrics();
  ASSERT_EQ(metrics.size(), 2u);
  EXPECT_EQ(metrics[0].errors, 0u);
  EXPECT_EQ(metrics[1].errors, 3u);
  EXPECT_FALSE(metrics[1].failing);
  EXPECT_EQ(director->progress().acknowledged["bad"], last_position_);
}

TEST_F(ExporterDirectorTest, AnExporterThatDoesNotAcknowledgeHoldsTheExportedIndexAndShowsLag) {
  auto director = Create({{"a"}, {"silent", -1, 0, false, /*acknowledges=*/false}});
  director->Activate({});
  OfferLog(*director, 12, 2);
  // Not idle: "silent" never acknowledges. Wait until "a" has everything.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (director->progress().acknowledged["a"] < last_position_ &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(director->WaitIdle(50));
  auto progress = director->progress();
  EXPECT_EQ(progress.acknowledged["a"], last_position_);
  EXPECT_EQ(progress.acknowledged["silent"], 0);
  EXPECT_EQ(progress.exported_index, 0u);  // the log must be kept for "silent"
  auto metrics = director->Metrics();
  EXPECT_EQ(metrics[1].lag_records, last_position_);
  EXPECT_GT(metrics[1].lag_seconds, 0);
}

TEST_F(ExporterDirectorTest, TheBufferIsBoundedSoTheLogIsReadAgainLater) {
  auto director = Create({{"silent", -1, 0, false, false}}, /*max_buffered_records=*/10);
  director->Activate({});
  OfferLog(*director, 10, 3);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (director->WantsMore() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(director->WantsMore());
  director->Deactivate();
  EXPECT_FALSE(director->WantsMore());
}

TEST_F(ExporterDirectorTest, ConfigurationErrorsNameTheExporter) {
  ExporterOptions options;
  options.exporters.push_back({"x", "nope", {}});
  auto director = ExporterDirector::Create(1, options);
  ASSERT_FALSE(director.ok());
  EXPECT_NE(std::string(director.status().message()).find("exporter 'x'"), std::string::npos);
  options.exporters = {{"h", "sql", {{"url", "postgresql://u:p@localhost/db?bad_option=1"}}}};
  director = ExporterDirector::Create(1, options);
  ASSERT_FALSE(director.ok());
  EXPECT_EQ(director.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(director.status().message()).find("exporter 'h'"), std::string::npos);
}

}  // namespace
}  // namespace tern::broker
