#pragma once

// The embedded gateway's SearchBackend: the REST API's searches and reads of history
// (gateway/search_backend.h) answered from this broker's history store through the exporter's
// query layer (exporter/history_query.h), on a connection of its own (SQLite in WAL mode: reads
// never block the exporters' writes; PostgreSQL: one more client connection).
//
// Owned by the Broker. One thread of its own runs every read in turn (the connection belongs to
// it); Read only queues, so REST handlers never block. At most kMaxQueued reads wait, further
// ones are answered RESOURCE_EXHAUSTED (429). The connection is opened at the first read and
// again after it failed with UNAVAILABLE, so a store that is down at start or restarts only
// fails the reads made meanwhile.
//
// The store holds the rows of the partitions this broker leads (or led): on a cluster with the
// default SQLite store, each broker answers from its own file.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "exporter/history_query.h"
#include "exporter/sql.h"
#include "gateway/search_backend.h"

namespace tern::broker {

class HistorySearch final : public gateway::SearchBackend {
 public:
  static constexpr size_t kMaxQueued = 64;

  // `lag` says how far the store is behind the log ("records=N, seconds=S"), called on the
  // search thread for every answer.
  HistorySearch(exporter::HistoryUrl url, std::function<std::string()> lag);
  ~HistorySearch() override;

  void Read(gateway::SearchRequest request,
            std::function<void(gateway::SearchAnswer)> done) override;

 private:
  struct Pending {
    gateway::SearchRequest request;
    std::function<void(gateway::SearchAnswer)> done;
  };
  void Run();
  gateway::SearchAnswer Answer(const gateway::SearchRequest& request);

  const exporter::HistoryUrl url_;
  const std::function<std::string()> lag_;
  std::unique_ptr<exporter::HistoryQuery> query_;  // search thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tern::broker
