#include "broker/history_search.h"

#include <spdlog/spdlog.h>

#include "base/strings.h"

namespace tern::broker {

using gateway::SearchAnswer;
using gateway::SearchRequest;

HistorySearch::HistorySearch(exporter::HistoryUrl url, std::function<std::string()> lag)
    : url_(std::move(url)), lag_(std::move(lag)), thread_([this] { Run(); }) {}

HistorySearch::~HistorySearch() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void HistorySearch::Read(SearchRequest request, std::function<void(SearchAnswer)> done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < kMaxQueued) {
      queue_.push_back({std::move(request), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  SearchAnswer busy;
  busy.status = absl::ResourceExhaustedError(
      StrCat("The history store is busy: ", kMaxQueued, " reads are waiting; retry later"));
  done(std::move(busy));
}

void HistorySearch::Run() {
  while (true) {
    Pending pending;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, nothing left
      pending = std::move(queue_.front());
      queue_.pop_front();
      stopping = stopping_;
    }
    SearchAnswer answer;
    if (stopping) {
      answer.status = absl::UnavailableError("The broker is shutting down");
    } else {
      answer = Answer(pending.request);
    }
    pending.done(std::move(answer));
  }
  query_.reset();
}

SearchAnswer HistorySearch::Answer(const SearchRequest& request) {
  SearchAnswer answer;
  if (query_ == nullptr) {
    auto connection = exporter::OpenSqlConnection(url_);
    absl::StatusOr<std::unique_ptr<exporter::HistoryQuery>> query =
        connection.ok()
            ? exporter::HistoryQuery::Open(*std::move(connection))
            : absl::StatusOr<std::unique_ptr<exporter::HistoryQuery>>(connection.status());
    if (!query.ok()) {
      spdlog::warn("search: cannot open the history store: {}", query.status().ToString());
      // The log has the details; a client learns nothing of the store's address or schema.
      answer.status =
          absl::UnavailableError("The history store cannot be read (the broker's log says why)");
      return answer;
    }
    query_ = *std::move(query);
  }
  absl::Status status;
  switch (request.kind) {
    case SearchRequest::Kind::kSearch: {
      auto result = query_->Search(request.entity, request.body);
      status = result.status();
      if (result.ok()) answer.body = *std::move(result);
      break;
    }
    case SearchRequest::Kind::kGet: {
      auto result = query_->Get(request.entity, request.key);
      status = result.status();
      if (result.ok()) answer.body = *std::move(result);
      break;
    }
    case SearchRequest::Kind::kXml: {
      auto result = request.entity == "decision-definitions"
                        ? query_->DecisionDefinitionXml(request.key)
                        : query_->ProcessDefinitionXml(request.key);
      status = result.status();
      if (result.ok()) answer.text = *std::move(result);
      break;
    }
    case SearchRequest::Kind::kDefinitionElementStatistics: {
      auto result = query_->ProcessDefinitionElementStatistics(request.key, request.body);
      status = result.status();
      if (result.ok()) answer.body = *std::move(result);
      break;
    }
    case SearchRequest::Kind::kInstanceElementStatistics: {
      auto result = query_->ProcessInstanceElementStatistics(request.key);
      status = result.status();
      if (result.ok()) answer.body = *std::move(result);
      break;
    }
  }
  if (status.code() == absl::StatusCode::kUnavailable) query_.reset();  // reconnect next time
  if (!status.ok() && status.code() != absl::StatusCode::kInvalidArgument &&
      status.code() != absl::StatusCode::kNotFound) {
    spdlog::warn("search: {} {} failed: {}", request.entity, static_cast<int>(request.kind),
                 status.ToString());
    // Store errors name statements, tables and the store's address: they stay in the log.
    status = absl::Status(status.code(),
                          StrCat("The history store failed to answer this ", request.entity,
                                 " request (the broker's log "
                                 "says why)"));
  }
  answer.status = std::move(status);
  if (lag_) answer.lag = lag_();
  return answer;
}

}  // namespace tern::broker
