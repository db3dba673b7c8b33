#pragma once

// Collects every problem found in one BPMN resource so a deployment is rejected once, with the
// whole list, instead of one round trip per mistake. Internal to the bpmn module.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "base/xml_scan.h"

namespace tern::bpmn {

struct Problem {
  int line = 0;      // 1-based; 0 when the problem concerns the whole resource
  std::string text;  // one line, without the leading "- "
};

// Owned by one ParseBpmn call; single-threaded.
class Problems {
 public:
  // "Element 'task1' (SERVICE_TASK, line 12): <message>". An empty id prints as "without id".
  void AddElement(std::string_view id, std::string_view kind, int line, std::string_view message);
  // "Line 3: <message>" (or "Resource: <message>" for line 0).
  void AddAt(int line, std::string_view message);

  bool empty() const { return problems_.empty(); }
  size_t size() const { return problems_.size(); }
  const std::vector<Problem>& problems() const { return problems_; }

  // INVALID_ARGUMENT listing every problem on its own line, ordered by line; OK when empty.
  absl::Status ToStatus(std::string_view resource_name) const;

 private:
  std::vector<Problem> problems_;
};

// The status for a resource rejected at the XML level: only the first problem is reported,
// because nothing after it can be trusted.
absl::Status XmlProblem(std::string_view resource_name, int line, std::string_view message);

// Keeps user-supplied text short and printable inside a one-line message.
using base::Excerpt;

}  // namespace tern::bpmn
