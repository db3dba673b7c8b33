#include "bpmn/xml_reader.h"

#include <algorithm>
#include <optional>
#include <pugixml.hpp>
#include <variant>

#include "absl/strings/str_format.h"
#include "bpmn/problems.h"
#include "bpmn/strings.h"

namespace tern::bpmn {
namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// Maps byte offsets to 1-based line numbers. XML treats "\r\n" and a lone "\r" as one line
// break each, so editors and our messages agree.
class LineMap {
 public:
  explicit LineMap(std::string_view text) {
    starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') {
        starts_.push_back(i + 1);
      } else if (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')) {
        starts_.push_back(i + 1);
      }
    }
  }
  int LineOf(size_t offset) const {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
    return static_cast<int>(it - starts_.begin());
  }

 private:
  std::vector<size_t> starts_;
};

struct ScanError {
  size_t offset = 0;
  std::string message;
};

// Returns the offset of the first byte that is not part of well-formed UTF-8 encoding an XML
// character, with the reason; nullopt when the whole text is fine.
std::optional<ScanError> ValidateUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return ScanError{i, absl::StrFormat("control character 0x%02X is not allowed in XML", c)};
      }
      ++i;
      continue;
    }
    int length = 0;
    uint32_t code_point = 0;
    uint32_t min = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
      code_point = c & 0x1F;
      min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      code_point = c & 0x0F;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      code_point = c & 0x07;
      min = 0x10000;
    } else {
      return ScanError{i, absl::StrFormat("invalid UTF-8 byte 0x%02X", c)};
    }
    if (i + length > n) return ScanError{i, "truncated UTF-8 sequence"};
    for (int k = 1; k < length; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) {
        return ScanError{i, absl::StrFormat("invalid UTF-8 sequence starting with 0x%02X", c)};
      }
      code_point = (code_point << 6) | (cc & 0x3F);
    }
    if (code_point < min || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return ScanError{i, absl::StrFormat("invalid UTF-8 sequence starting with 0x%02X", c)};
    }
    if (code_point == 0xFFFE || code_point == 0xFFFF) {
      return ScanError{i, absl::StrFormat("character U+%04X is not allowed in XML", code_point)};
    }
    i += length;
  }
  return std::nullopt;
}

bool IsXmlChar(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// Checks the reference starting at text[i] == '&'. pugixml expands only the five predefined
// entities and character references and silently keeps anything else as literal text, so an
// undeclared `&xxe;` would reach the model; every other reference is an error here.
// On success returns the offset just after the ';'.
std::variant<size_t, ScanError> CheckReference(std::string_view text, size_t i) {
  const size_t n = text.size();
  size_t j = i + 1;
  if (j < n && text[j] == '#') {
    ++j;
    int base = 10;
    if (j < n && text[j] == 'x') {
      base = 16;
      ++j;
    }
    uint64_t value = 0;
    size_t digits = 0;
    while (j < n && digits <= 8) {
      const char c = text[j];
      int digit = -1;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (base == 16 && c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else if (base == 16 && c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else {
        break;
      }
      value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
      ++digits;
      ++j;
    }
    if (digits == 0 || digits > 8 || j >= n || text[j] != ';' ||
        !IsXmlChar(static_cast<uint32_t>(value))) {
      size_t end = std::min(n, i + 16);
      return ScanError{
          i, Cat("invalid character reference '", Excerpt(text.substr(i, end - i), 16), "'")};
    }
    return j + 1;
  }
  size_t name_end = j;
  while (name_end < n && name_end - j < 64 &&
         (IsAlnum(text[name_end]) || text[name_end] == '_' || text[name_end] == '-' ||
          text[name_end] == '.' || text[name_end] == ':' ||
          static_cast<unsigned char>(text[name_end]) >= 0x80)) {
    ++name_end;
  }
  const std::string_view name = text.substr(j, name_end - j);
  if (name_end < n && text[name_end] == ';' && !name.empty()) {
    if (name == "lt" || name == "gt" || name == "amp" || name == "apos" || name == "quot") {
      return name_end + 1;
    }
    return ScanError{i, Cat("unresolved entity reference '&", Excerpt(name, 32),
                            ";' (only the five predefined XML entities are allowed)")};
  }
  return ScanError{i, "'&' must be escaped as '&amp;'"};
}

// One linear pass over the raw text before pugixml sees it: rejects DTDs (DOCTYPE, ENTITY, ...)
// and bad references, and bounds element count and nesting depth, so hostile input is refused
// without building a tree. It only needs to recognise markup boundaries; well-formedness is left
// to pugixml.
std::optional<ScanError> PreScan(std::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  int depth = 0;
  size_t elements = 0;
  auto skip_to = [&](size_t from, std::string_view terminator,
                     std::string_view what) -> std::variant<size_t, ScanError> {
    const size_t end = text.find(terminator, from);
    if (end == std::string_view::npos) {
      return ScanError{i, Cat("unterminated ", what)};
    }
    return end + terminator.size();
  };
  while (i < n) {
    const char c = text[i];
    if (c == '&') {
      auto next = CheckReference(text, i);
      if (auto* error = std::get_if<ScanError>(&next)) return *error;
      i = std::get<size_t>(next);
      continue;
    }
    if (c != '<') {
      ++i;
      continue;
    }
    const std::string_view rest = text.substr(i);
    std::variant<size_t, ScanError> next;
    if (rest.starts_with("<!--")) {
      next = skip_to(i + 4, "-->", "comment");
    } else if (rest.starts_with("<![CDATA[")) {
      next = skip_to(i + 9, "]]>", "CDATA section");
    } else if (rest.starts_with("<?")) {
      next = skip_to(i + 2, "?>", "processing instruction");
    } else if (rest.starts_with("<!")) {
      // DOCTYPE carries entity declarations (XXE, billion laughs); nothing in BPMN needs it.
      if (rest.size() >= 9 && EqualsIgnoreCase(rest.substr(0, 9), "<!DOCTYPE")) {
        return ScanError{i, "DOCTYPE is not allowed"};
      }
      return ScanError{i, "markup declarations ('<!...') are not allowed"};
    } else if (rest.starts_with("</")) {
      next = skip_to(i + 2, ">", "end tag");
      --depth;
    } else {
      // A start tag: find its '>' outside quoted attribute values, checking references in them.
      size_t j = i + 1;
      char quote = 0;
      while (j < n) {
        const char ch = text[j];
        if (quote != 0) {
          if (ch == quote) {
            quote = 0;
          } else if (ch == '&') {
            auto after = CheckReference(text, j);
            if (auto* error = std::get_if<ScanError>(&after)) return *error;
            j = std::get<size_t>(after);
            continue;
          }
        } else if (ch == '"' || ch == '\'') {
          quote = ch;
        } else if (ch == '>') {
          break;
        }
        ++j;
      }
      if (j >= n) return ScanError{i, "unterminated start tag"};
      if (++elements > kMaxXmlElements) {
        return ScanError{i, Cat("more than ", kMaxXmlElements, " XML elements")};
      }
      if (text[j - 1] != '/') {
        if (++depth > kMaxNestingDepth) {
          return ScanError{i, Cat("elements are nested deeper than ", kMaxNestingDepth, " levels")};
        }
      }
      i = j + 1;
      continue;
    }
    if (auto* error = std::get_if<ScanError>(&next)) return *error;
    i = std::get<size_t>(next);
  }
  return std::nullopt;
}

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
  if (auto error = ValidateUtf8(xml)) {
    return XmlProblem(resource_name, lines.LineOf(error->offset),
                      Cat(error->message, " at byte offset ", error->offset,
                          " (the resource must be UTF-8 encoded XML)"));
  }
  const size_t bom = xml.starts_with(kUtf8Bom) ? kUtf8Bom.size() : 0;
  const std::string_view body = xml.substr(bom);
  if (auto error = PreScan(body)) {
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
