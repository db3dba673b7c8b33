#include "bpmn/problems.h"

#include <algorithm>

#include "bpmn/strings.h"

namespace tern::bpmn {
namespace {

// A resource with thousands of mistakes would otherwise produce a message larger than the
// resource itself; the first ones are what the modeller needs.
constexpr size_t kMaxReportedProblems = 100;

std::string Header(std::string_view resource_name) {
  return Cat("'", Excerpt(resource_name, 256), "' is not a valid BPMN resource:");
}

}  // namespace

void Problems::AddElement(std::string_view id, std::string_view kind, int line,
                          std::string_view message) {
  std::string who =
      id.empty() ? std::string("Element without id") : Cat("Element '", Excerpt(id, 128), "'");
  problems_.push_back({line, Cat(who, " (", kind, ", line ", line, "): ", message)});
}

void Problems::AddAt(int line, std::string_view message) {
  if (line > 0) {
    problems_.push_back({line, Cat("Line ", line, ": ", message)});
  } else {
    problems_.push_back({0, Cat("Resource: ", message)});
  }
}

absl::Status Problems::ToStatus(std::string_view resource_name) const {
  if (problems_.empty()) return absl::OkStatus();
  std::vector<const Problem*> sorted;
  sorted.reserve(problems_.size());
  for (const auto& problem : problems_) sorted.push_back(&problem);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Problem* a, const Problem* b) { return a->line < b->line; });
  // The same rule can fire twice for one element through two paths (e.g. a duplicate id seen
  // from both processes); report each distinct line once.
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](const Problem* a, const Problem* b) { return a->text == b->text; }),
               sorted.end());
  std::string message = Header(resource_name);
  size_t shown = 0;
  for (const Problem* problem : sorted) {
    if (shown == kMaxReportedProblems) {
      Append(message, "\n- ... and ", sorted.size() - shown, " more problems");
      break;
    }
    Append(message, "\n- ", problem->text);
    ++shown;
  }
  return absl::InvalidArgumentError(message);
}

absl::Status XmlProblem(std::string_view resource_name, int line, std::string_view message) {
  Problems problems;
  problems.AddAt(line, message);
  return problems.ToStatus(resource_name);
}

}  // namespace tern::bpmn
