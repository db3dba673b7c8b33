#include "bpmn/xml_reader.h"

#include <algorithm>
#include <optional>
#include <pugixml.hpp>

#include "base/xml_scan.h"
#include "bpmn/problems.h"
#include "bpmn/strings.h"

namespace tern::bpmn {
namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

using LineMap = base::XmlLineMap;
using ScanError = base::XmlScanError;

Ns NamespaceOf(std::string_view uri) {
  if (uri == kBpmnNamespace) return Ns::kBpmn;
  if (uri == kZeebeNamespace) return Ns::kZeebe;
  if (uri == "http://www.omg.org/spec/BPMN/20100524/DI" ||
      uri == "http://www.omg.org/spec/DD/20100524/DI" ||
      uri == "http://www.omg.org/spec/DD/20100524/DC") {
    return Ns::kDiagram;
  }
  return Ns::kOther;
}

std::pair<std::string_view, std::string_view> SplitQName(std::string_view qname) {
  const size_t colon = qname.find(':');
  if (colon == std::string_view::npos) return {{}, qname};
  return {qname.substr(0, colon), qname.substr(colon + 1)};
}

// Walks the pugixml tree without recursion, resolving namespace prefixes and copying the BPMN
// and Zeebe elements into XmlTree::nodes.
class TreeWalker {
 public:
  TreeWalker(XmlTree& tree, const LineMap& lines, size_t offset_delta)
      : tree_(tree), lines_(lines), offset_delta_(offset_delta) {}

  std::optional<ScanError> Walk() {
    int top_level_elements = 0;
    for (pugi::xml_node child = tree_.doc->first_child(); child; child = child.next_sibling()) {
      if (child.type() == pugi::node_element) ++top_level_elements;
    }
    if (top_level_elements != 1) {
      return ScanError{0, "the document must have exactly one root element"};
    }
    pugi::xml_node current = tree_.doc->first_child();
    while (current) {
      if (auto error = Enter(current)) return error;
      if (current.type() == pugi::node_element && current.first_child()) {
        current = current.first_child();
        continue;
      }
      while (current) {
        if (current.type() == pugi::node_element) Leave();
        if (pugi::xml_node next = current.next_sibling()) {
          current = next;
          break;
        }
        current = current.parent();
        if (current.type() == pugi::node_document) current = pugi::xml_node();
      }
    }
    return std::nullopt;
  }

 private:
  struct Frame {
    size_t bindings_mark;
    int node;  // materialized node index or -1
  };

  size_t OffsetOf(const pugi::xml_node& node) const {
    const ptrdiff_t offset = node.offset_debug();
    return offset < 0 ? 0 : static_cast<size_t>(offset) + offset_delta_;
  }

  std::optional<std::string_view> Resolve(std::string_view prefix) const {
    if (prefix == "xml") return kXmlNamespace;
    for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it) {
      if (it->first == prefix) return it->second;
    }
    if (prefix.empty()) return std::string_view();  // no default namespace declared
    return std::nullopt;
  }

  std::optional<ScanError> Enter(const pugi::xml_node& node) {
    switch (node.type()) {
      case pugi::node_element:
        return EnterElement(node);
      case pugi::node_pcdata:
      case pugi::node_cdata:
        if (!frames_.empty() && frames_.back().node >= 0) {
          tree_.nodes[static_cast<size_t>(frames_.back().node)].text += node.value();
        }
        return std::nullopt;
      case pugi::node_doctype:
        return ScanError{OffsetOf(node), "DOCTYPE is not allowed"};
      default:
        return std::nullopt;  // comments, processing instructions, the XML declaration
    }
  }

  std::optional<ScanError> EnterElement(const pugi::xml_node& node) {
    const size_t offset = OffsetOf(node);
    // Duplicate attributes: pugixml keeps both, and which one a reader sees would be arbitrary.
    names_.clear();
    for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
      names_.emplace_back(a.name());
    }
    std::sort(names_.begin(), names_.end());
    for (size_t k = 1; k < names_.size(); ++k) {
      if (names_[k] == names_[k - 1]) {
        return ScanError{offset, Cat("duplicate attribute '", Excerpt(names_[k]), "' on element <",
                                     Excerpt(node.name()), ">")};
      }
    }
    const size_t mark = bindings_.size();
    for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view name = a.name();
      if (name == "xmlns") {
        bindings_.emplace_back(std::string_view(), a.value());
      } else if (name.starts_with("xmlns:")) {
        bindings_.emplace_back(name.substr(6), a.value());
      }
    }
    const auto [prefix, local] = SplitQName(node.name());
    const std::optional<std::string_view> uri = Resolve(prefix);
    if (!uri.has_value()) {
      return ScanError{offset, Cat("namespace prefix '", Excerpt(prefix), "' is not declared")};
    }
    const Ns ns = NamespaceOf(*uri);
    const int line = lines_.LineOf(offset);
    const bool is_root = frames_.empty();
    if (is_root && (ns != Ns::kBpmn || local != "definitions")) {
      return ScanError{offset, Cat("the root element must be BPMN 'definitions' (namespace ",
                                   kBpmnNamespace, "), not <", Excerpt(node.name()), ">")};
    }
    int index = -1;
    const bool parent_materialized = is_root || frames_.back().node >= 0;
    if (parent_materialized && (ns == Ns::kBpmn || ns == Ns::kZeebe)) {
      index = static_cast<int>(tree_.nodes.size());
      XmlNode& out = tree_.nodes.emplace_back();
      out.ns = ns;
      out.local = local;
      out.line = line;
      out.parent = is_root ? -1 : frames_.back().node;
      for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
        const auto [attr_prefix, attr_local] = SplitQName(a.name());
        if (attr_prefix == "xmlns" || (attr_prefix.empty() && attr_local == "xmlns")) continue;
        Ns attr_ns = Ns::kNone;
        if (!attr_prefix.empty()) {
          const auto attr_uri = Resolve(attr_prefix);
          attr_ns = attr_uri.has_value() ? NamespaceOf(*attr_uri) : Ns::kOther;
        }
        out.attrs.push_back({attr_ns, attr_local, a.value()});
      }
      if (!is_root) {
        tree_.nodes[static_cast<size_t>(frames_.back().node)].children.push_back(index);
      }
    }
    if (ns == Ns::kBpmn || ns == Ns::kZeebe || ns == Ns::kDiagram) {
      if (pugi::xml_attribute id = node.attribute("id")) {
        tree_.ids.push_back({id.value(), line, index, node.name()});
      }
    }
    frames_.push_back({mark, index});
    return std::nullopt;
  }

  void Leave() {
    bindings_.resize(frames_.back().bindings_mark);
    frames_.pop_back();
  }

  XmlTree& tree_;
  const LineMap& lines_;
  const size_t offset_delta_;
  std::vector<std::pair<std::string_view, std::string_view>> bindings_;
  std::vector<Frame> frames_;
  std::vector<std::string_view> names_;
};

}  // namespace

const std::string_view* XmlNode::Attr(std::string_view name) const {
  for (const auto& attr : attrs) {
    if (attr.ns == Ns::kNone && attr.local == name) return &attr.value;
  }
  return nullptr;
}

std::string_view XmlNode::AttrOr(std::string_view name, std::string_view fallback) const {
  const std::string_view* value = Attr(name);
  return value == nullptr ? fallback : *value;
}

XmlTree::XmlTree() : doc(std::make_unique<pugi::xml_document>()) {}
XmlTree::~XmlTree() = default;

absl::StatusOr<std::unique_ptr<XmlTree>> ReadXml(std::string_view xml,
                                                 std::string_view resource_name) {
  if (xml.size() > kMaxResourceBytes) {
    return XmlProblem(resource_name, 0,
                      Cat("the resource is ", xml.size(), " bytes; at most ", kMaxResourceBytes,
                          " bytes are allowed"));
  }
  const LineMap lines(xml);
  if (auto error = base::ValidateXmlUtf8(xml)) {
    return XmlProblem(resource_name, lines.LineOf(error->offset),
                      Cat(error->message, " at byte offset ", error->offset,
                          " (the resource must be UTF-8 encoded XML)"));
  }
  const size_t bom = xml.starts_with(kUtf8Bom) ? kUtf8Bom.size() : 0;
  const std::string_view body = xml.substr(bom);
  if (auto error = base::PreScanXml(body, {kMaxXmlElements, kMaxNestingDepth})) {
    return XmlProblem(resource_name, lines.LineOf(error->offset + bom), error->message);
  }

  auto tree = std::make_unique<XmlTree>();
  // parse_doctype only so a DOCTYPE the pre-scan somehow missed becomes a node we reject.
  const pugi::xml_parse_result result = tree->doc->load_buffer(
      body.data(), body.size(), pugi::parse_default | pugi::parse_doctype, pugi::encoding_utf8);
  if (!result) {
    const size_t offset = result.offset < 0 ? 0 : static_cast<size_t>(result.offset) + bom;
    return XmlProblem(resource_name, lines.LineOf(offset),
                      Cat("not well-formed XML: ", result.description()));
  }
  TreeWalker walker(*tree, lines, bom);
  if (auto error = walker.Walk()) {
    return XmlProblem(resource_name, error->offset == 0 ? 0 : lines.LineOf(error->offset),
                      error->message);
  }
  return tree;
}

}  // namespace tern::bpmn
