#pragma once

// The hardened XML layer under the BPMN parser (internal to the bpmn module).
//
// pugixml is fast and never fetches anything, but it accepts input a deployment must refuse: it
// skips DOCTYPE declarations, leaves unknown entity references such as `&xxe;` in the text,
// keeps duplicate attributes and does not check UTF-8. ReadXml checks all of that itself, bounds
// size, element count and nesting depth before pugixml allocates a tree, and then turns the
// pugixml tree into a namespace-resolved tree of just the BPMN and Zeebe elements, walking it
// iteratively so no input can exhaust the stack.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace pugi {
class xml_document;
}  // namespace pugi

namespace tern::bpmn {

inline constexpr size_t kMaxResourceBytes = 4 * 1024 * 1024;
inline constexpr int kMaxNestingDepth = 256;
// A 4 MiB model written by Camunda Modeler has about 60,000 XML elements (most of them BPMNDI);
// the cap stops a flood of tiny elements from costing hundreds of MiB of tree.
inline constexpr size_t kMaxXmlElements = 250'000;

inline constexpr std::string_view kBpmnNamespace = "http://www.omg.org/spec/BPMN/20100524/MODEL";
inline constexpr std::string_view kZeebeNamespace = "http://camunda.org/schema/zeebe/1.0";

enum class Ns : uint8_t {
  kNone,  // unprefixed attribute (attributes do not take the default namespace)
  kBpmn,
  kZeebe,
  kDiagram,  // BPMNDI, DI and DC: not materialized, but their ids count for uniqueness
  kOther,
};

struct XmlAttr {
  Ns ns = Ns::kNone;
  std::string_view local;
  std::string_view value;
};

struct XmlNode {
  Ns ns = Ns::kOther;
  std::string_view local;     // local name, without prefix
  int line = 0;               // 1-based line of the start tag
  int parent = -1;            // index in XmlTree::nodes; -1 for the root
  std::vector<int> children;  // materialized (BPMN / Zeebe) child elements, in document order
  std::vector<XmlAttr> attrs;
  std::string text;  // character data and CDATA directly inside, concatenated

  // Unprefixed attribute `name`, or nullptr.
  const std::string_view* Attr(std::string_view name) const;
  std::string_view AttrOr(std::string_view name, std::string_view fallback = {}) const;
};

// An `id` attribute somewhere in the document (BPMN or diagram element).
struct XmlId {
  std::string_view value;
  int line = 0;
  int node = -1;           // index in XmlTree::nodes when materialized, else -1
  std::string_view qname;  // as written, e.g. "bpmndi:BPMNShape"
};

// Owns the pugixml document the string_views point into. Immutable after ReadXml.
struct XmlTree {
  XmlTree();
  ~XmlTree();
  XmlTree(const XmlTree&) = delete;
  XmlTree& operator=(const XmlTree&) = delete;

  std::unique_ptr<pugi::xml_document> doc;
  std::vector<XmlNode> nodes;  // nodes[0] is the root element (bpmn:definitions)
  std::vector<XmlId> ids;
};

// Returns INVALID_ARGUMENT naming the first XML-level problem and its line.
absl::StatusOr<std::unique_ptr<XmlTree>> ReadXml(std::string_view xml,
                                                 std::string_view resource_name);

}  // namespace tern::bpmn
