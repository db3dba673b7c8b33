#include "dmn/xml.h"

#include <algorithm>
#include <pugixml.hpp>

#include "absl/status/status.h"
#include "base/strings.h"
#include "base/xml_scan.h"

namespace tern::dmn::internal {
namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::pair<std::string_view, std::string_view> SplitQName(std::string_view qname) {
  const size_t colon = qname.find(':');
  if (colon == std::string_view::npos) return {{}, qname};
  return {qname.substr(0, colon), qname.substr(colon + 1)};
}

absl::Status Problem(std::string_view resource_name, int line, std::string_view message) {
  return absl::InvalidArgumentError(
      StrCat("'", Excerpt(resource_name, 256), "' is not a valid DMN resource:\n- ",
             line > 0 ? StrCat("Line ", line, ": ") : "Resource: ", message));
}

}  // namespace

std::optional<std::string_view> XmlElement::Attr(std::string_view name) const {
  for (const auto& [qname, value] : attrs) {
    if (qname == name) return value;
  }
  return std::nullopt;
}

std::string_view XmlElement::AttrOr(std::string_view name, std::string_view fallback) const {
  std::optional<std::string_view> v = Attr(name);
  return v ? *v : fallback;
}

XmlDocument::XmlDocument() : doc(std::make_unique<pugi::xml_document>()) {}
XmlDocument::~XmlDocument() = default;

std::optional<std::string_view> XmlDocument::ResolvePrefix(int element,
                                                           std::string_view prefix) const {
  if (prefix == "xml") return kXmlNamespace;
  for (int e = element; e >= 0; e = at(e).parent) {
    for (const auto& [p, uri] : at(e).ns_decls) {
      if (p == prefix) return uri;
    }
  }
  if (prefix.empty()) return std::string_view();
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<XmlDocument>> ReadXml(std::string_view xml,
                                                     std::string_view resource_name) {
  if (xml.size() > kMaxResourceBytes) {
    return Problem(resource_name, 0,
                   StrCat("the resource is larger than ", kMaxResourceBytes, " bytes"));
  }
  size_t delta = 0;
  if (xml.starts_with(kUtf8Bom)) {
    xml.remove_prefix(kUtf8Bom.size());
    delta = kUtf8Bom.size();
  }
  const base::XmlLineMap lines(xml);
  if (auto error = base::ValidateXmlUtf8(xml)) {
    return Problem(resource_name, lines.LineOf(error->offset), error->message);
  }
  if (auto error = base::PreScanXml(xml, {kMaxXmlElements, kMaxNestingDepth})) {
    return Problem(resource_name, lines.LineOf(error->offset), error->message);
  }
  auto out = std::make_unique<XmlDocument>();
  const pugi::xml_parse_result parsed = out->doc->load_buffer(
      xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
  if (!parsed) {
    return Problem(resource_name,
                   lines.LineOf(static_cast<size_t>(std::max<ptrdiff_t>(0, parsed.offset))),
                   StrCat("malformed XML: ", parsed.description()));
  }
  (void)delta;

  pugi::xml_node root;
  int roots = 0;
  for (pugi::xml_node child = out->doc->first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_element) {
      root = child;
      ++roots;
    }
  }
  if (roots != 1)
    return Problem(resource_name, 0, "the document must have exactly one root element");

  // Iterative pre-order walk: (pugixml node, parent element index).
  std::vector<std::pair<pugi::xml_node, int>> stack;
  stack.emplace_back(root, -1);
  while (!stack.empty()) {
    auto [node, parent] = stack.back();
    stack.pop_back();
    const int index = static_cast<int>(out->elements.size());
    out->elements.emplace_back();
    XmlElement& element = out->elements.back();
    element.parent = parent;
    const ptrdiff_t offset = node.offset_debug();
    element.line = lines.LineOf(offset < 0 ? 0 : static_cast<size_t>(offset));
    for (pugi::xml_attribute a = node.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view qname = a.name();
      const std::string_view value = a.value();
      for (const auto& [seen, unused] : element.attrs) {
        if (seen == qname) {
          return Problem(resource_name, element.line,
                         StrCat("duplicate attribute '", Excerpt(qname, 64), "'"));
        }
      }
      element.attrs.emplace_back(qname, value);
      if (qname == "xmlns") {
        element.ns_decls.emplace_back(std::string_view(), value);
      } else if (qname.starts_with("xmlns:")) {
        element.ns_decls.emplace_back(qname.substr(6), value);
      }
    }
    if (parent >= 0) out->elements[static_cast<size_t>(parent)].children.push_back(index);
    const auto [prefix, local] = SplitQName(node.name());
    std::optional<std::string_view> ns = out->ResolvePrefix(index, prefix);
    if (!ns) {
      return Problem(resource_name, out->elements[static_cast<size_t>(index)].line,
                     StrCat("undeclared namespace prefix '", Excerpt(prefix, 64), "'"));
    }
    XmlElement& e = out->elements[static_cast<size_t>(index)];
    e.ns = *ns;
    e.local = local;
    // Children in reverse so they pop in document order; text collected directly.
    std::vector<pugi::xml_node> kids;
    for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
      if (child.type() == pugi::node_element) {
        kids.push_back(child);
      } else if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
        e.text += child.value();
      }
    }
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.emplace_back(*it, index);
  }
  // Document order of children is preserved by the stack discipline above only within one
  // parent; element indices are pre-order, which is what callers rely on.
  return out;
}

}  // namespace tern::dmn::internal
