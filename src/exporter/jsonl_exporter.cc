#include "exporter/jsonl_exporter.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/strings.h"
#include "exporter/record_json.h"
#include "exporter/settings.h"

namespace tern::exporter {

JsonlExporter::~JsonlExporter() { Close(); }

absl::Status JsonlExporter::Configure(const ExporterContext& context) {
  const auto& args = context.spec.args;
  auto path = args.find("path");
  path_ = path != args.end()
              ? path->second
              : StrCat(context.data_dir, "/export/records-partition-{partition}.jsonl");
  for (size_t at = path_.find("{partition}"); at != std::string::npos;
       at = path_.find("{partition}")) {
    path_.replace(at, 11, std::to_string(context.partition_id));
  }
  stdout_ = path_ == "-";
  if (auto it = args.find("max-bytes"); it != args.end()) {
    auto bytes = ParseByteSize(it->second);
    if (!bytes.ok()) return bytes.status();
    max_bytes_ = *bytes;
  }
  if (auto it = args.find("max-files"); it != args.end()) {
    auto files = ParseCount(it->second);
    if (!files.ok()) return files.status();
    max_files_ = static_cast<int>(*files);
  }
  if (auto it = args.find("sync-records"); it != args.end()) {
    auto records = ParseCount(it->second);
    if (!records.ok()) return records.status();
    sync_records_ = std::max<int64_t>(1, *records);
  }
  for (const auto& [key, value] : args) {
    if (key != "path" && key != "max-bytes" && key != "max-files" && key != "sync-records" &&
        key != "type") {
      return absl::InvalidArgumentError(
          StrCat("exporter '", context.spec.id, "': unknown jsonl setting '", key, "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status JsonlExporter::Open(Controller* controller) {
  controller_ = controller;
  last_written_position_ = controller->acknowledged_position();
  unsynced_records_ = 0;
  if (stdout_) {
    file_ = stdout;
    return absl::OkStatus();
  }
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), error);
  file_ = std::fopen(path_.c_str(), "ab");
  if (file_ == nullptr) {
    return absl::UnavailableError(StrCat("cannot open ", path_, ": ", std::strerror(errno)));
  }
  size_bytes_ = std::ftell(file_);
  return absl::OkStatus();
}

absl::Status JsonlExporter::Rotate() {
  std::fclose(file_);
  file_ = nullptr;
  std::error_code error;
  if (max_files_ <= 0) {
    std::filesystem::remove(path_, error);
  } else {
    for (int i = max_files_; i >= 1; --i) {
      std::string from = i == 1 ? path_ : StrCat(path_, ".", i - 1);
      std::string to = StrCat(path_, ".", i);
      if (std::filesystem::exists(from, error)) std::filesystem::rename(from, to, error);
    }
  }
  file_ = std::fopen(path_.c_str(), "ab");
  if (file_ == nullptr) {
    return absl::UnavailableError(StrCat("cannot open ", path_, ": ", std::strerror(errno)));
  }
  size_bytes_ = 0;
  return absl::OkStatus();
}

absl::Status JsonlExporter::Export(const record::Record& record) {
  if (file_ == nullptr) return absl::FailedPreconditionError("jsonl exporter is not open");
  std::string line = RecordJsonLine(record);
  line.push_back('\n');
  if (!stdout_ && max_bytes_ > 0 && size_bytes_ > 0 &&
      size_bytes_ + static_cast<int64_t>(line.size()) > max_bytes_) {
    // What is in the file now must be durable before it is rotated away from the ack.
    if (auto status = Flush(); !status.ok()) return status;
    if (auto status = Rotate(); !status.ok()) return status;
  }
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    return absl::UnavailableError(StrCat("cannot write to ", path_, ": ", std::strerror(errno)));
  }
  size_bytes_ += static_cast<int64_t>(line.size());
  last_written_position_ = record.position();
  if (++unsynced_records_ >= sync_records_) return Flush();
  return absl::OkStatus();
}

absl::Status JsonlExporter::Flush() {
  if (file_ == nullptr) return absl::OkStatus();
  if (std::fflush(file_) != 0) {
    return absl::UnavailableError(StrCat("cannot write to ", path_, ": ", std::strerror(errno)));
  }
  if (!stdout_ && unsynced_records_ > 0 && ::fdatasync(::fileno(file_)) != 0) {
    return absl::UnavailableError(StrCat("cannot sync ", path_, ": ", std::strerror(errno)));
  }
  unsynced_records_ = 0;
  if (controller_ != nullptr) controller_->AcknowledgePosition(last_written_position_);
  return absl::OkStatus();
}

void JsonlExporter::Close() {
  if (file_ != nullptr && !stdout_) std::fclose(file_);
  if (stdout_ && file_ != nullptr) std::fflush(file_);
  file_ = nullptr;
  controller_ = nullptr;
}

}  // namespace tern::exporter
