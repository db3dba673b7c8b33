#pragma once

// The hardened XML layer under the DMN parser (internal to the dmn module).
//
// Same safety rules as the BPMN parser: at most 4 MiB, valid UTF-8, no DOCTYPE or other markup
// declarations, only the five predefined entities, nesting at most 256 levels and a bounded
// element count, all checked by a linear pre-scan before pugixml builds a tree. The pugixml tree
// is then copied into a small namespace-resolved element tree (elements and their text only),
// walked without recursion.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/xml_scan.h"

namespace pugi {
class xml_document;
}  // namespace pugi

namespace tern::dmn::internal {

inline constexpr size_t kMaxResourceBytes = 4 * 1024 * 1024;
inline constexpr int kMaxNestingDepth = 256;
inline constexpr size_t kMaxXmlElements = 250'000;

struct XmlElement {
  std::string_view ns;     // resolved namespace URI ("" when none)
  std::string_view local;  // local name
  int line = 0;            // 1-based line of the start tag
  int parent = -1;         // index into XmlDocument::elements; -1 for the root
  std::vector<int> children;
  // Attributes as written: qualified name and value.
  std::vector<std::pair<std::string_view, std::string_view>> attrs;
  // Namespace declarations on this element: prefix ("" for the default namespace) and URI.
  std::vector<std::pair<std::string_view, std::string_view>> ns_decls;
  std::string text;  // character data and CDATA directly inside, concatenated

  // Unprefixed attribute `name`.
  std::optional<std::string_view> Attr(std::string_view name) const;
  std::string_view AttrOr(std::string_view name, std::string_view fallback = {}) const;
};

// Owns the pugixml document the string_views point into. Immutable after ReadXml.
struct XmlDocument {
  XmlDocument();
  ~XmlDocument();
  XmlDocument(const XmlDocument&) = delete;
  XmlDocument& operator=(const XmlDocument&) = delete;

  std::unique_ptr<pugi::xml_document> doc;
  std::vector<XmlElement> elements;  // elements[0] is the root

  const XmlElement& at(int index) const { return elements[static_cast<size_t>(index)]; }
  // Resolves a namespace prefix in scope at `element`; nullopt when undeclared.
  std::optional<std::string_view> ResolvePrefix(int element, std::string_view prefix) const;
};

// INVALID_ARGUMENT "'<resource>' is not a valid DMN resource:\n- Line N: <problem>" for the first
// XML-level problem.
absl::StatusOr<std::unique_ptr<XmlDocument>> ReadXml(std::string_view xml,
                                                     std::string_view resource_name);

// Keeps user-supplied text short and printable inside a one-line message.
using base::Excerpt;

}  // namespace tern::dmn::internal
