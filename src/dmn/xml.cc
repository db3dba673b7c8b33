#include "dmn/xml.h"

#include <algorithm>
#include <cstdio>
#include <pugixml.hpp>

#include "absl/status/status.h"
#include "base/strings.h"

namespace tern::dmn::internal {
namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// 1-based line of a byte offset; "\r\n" and a lone "\r" count as one line break each.
class LineMap {
 public:
  explicit LineMap(std::string_view text) {
    starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) {
        starts_.push_back(i + 1);
      }
    }
  }
  int LineOf(size_t offset) const {
    return static_cast<int>(std::upper_bound(starts_.begin(), starts_.end(), offset) -
                            starts_.begin());
  }

 private:
  std::vector<size_t> starts_;
};

struct ScanError {
  size_t offset = 0;
  std::string message;
};

std::string Hex(unsigned value, int digits) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%0*X", digits, value);
  return buffer;
}

bool IsXmlChar(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// The first byte that is not well-formed UTF-8 encoding an XML character.
std::optional<ScanError> ValidateUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return ScanError{i, StrCat("control character 0x", Hex(c, 2), " is not allowed in XML")};
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
      return ScanError{i, StrCat("invalid UTF-8 byte 0x", Hex(c, 2))};
    }
    if (i + static_cast<size_t>(length) > n) return ScanError{i, "truncated UTF-8 sequence"};
    for (int k = 1; k < length; ++k) {
      const unsigned char cc = s[i + static_cast<size_t>(k)];
      if ((cc & 0xC0) != 0x80) {
        return ScanError{i, StrCat("invalid UTF-8 sequence starting with 0x", Hex(c, 2))};
      }
      code_point = (code_point << 6) | (cc & 0x3F);
    }
    if (code_point < min || !IsXmlChar(code_point)) {
      return ScanError{i, StrCat("invalid UTF-8 sequence or character U+", Hex(code_point, 4))};
    }
    i += static_cast<size_t>(length);
  }
  return std::nullopt;
}

bool IsNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

// Checks the reference at text[i] == '&'. pugixml expands the predefined entities and character
// references and silently keeps anything else as text, so every other reference is an error.
// Returns the offset after the ';' or an error.
std::pair<size_t, std::optional<ScanError>> CheckReference(std::string_view text, size_t i) {
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
      return {0,
              ScanError{i, StrCat("invalid character reference '",
                                  Excerpt(text.substr(i, std::min<size_t>(16, n - i)), 16), "'")}};
    }
    return {j + 1, std::nullopt};
  }
  size_t end = j;
  while (end < n && end - j < 64 && IsNameByte(text[end])) ++end;
  const std::string_view name = text.substr(j, end - j);
  if (end < n && text[end] == ';' && !name.empty()) {
    if (name == "lt" || name == "gt" || name == "amp" || name == "apos" || name == "quot") {
      return {end + 1, std::nullopt};
    }
    return {0, ScanError{i, StrCat("unresolved entity reference '&", Excerpt(name, 32),
                                   ";' (only the five predefined XML entities are allowed)")}};
  }
  return {0, ScanError{i, "'&' must be escaped as '&amp;'"}};
}

// One linear pass before pugixml: rejects DTDs and bad references, bounds element count and
// nesting depth. Well-formedness is left to pugixml.
std::optional<ScanError> PreScan(std::string_view text) {
  const size_t n = text.size();
  size_t i = 0;
  int depth = 0;
  size_t elements = 0;
  while (i < n) {
    const char c = text[i];
    if (c == '&') {
      auto [next, error] = CheckReference(text, i);
      if (error) return error;
      i = next;
      continue;
    }
    if (c != '<') {
      ++i;
      continue;
    }
    const std::string_view rest = text.substr(i);
    auto skip_to = [&](size_t from, std::string_view terminator,
                       std::string_view what) -> std::optional<ScanError> {
      const size_t end = text.find(terminator, from);
      if (end == std::string_view::npos) return ScanError{i, StrCat("unterminated ", what)};
      i = end + terminator.size();
      return std::nullopt;
    };
    std::optional<ScanError> error;
    if (rest.starts_with("<!--")) {
      error = skip_to(i + 4, "-->", "comment");
    } else if (rest.starts_with("<![CDATA[")) {
      error = skip_to(i + 9, "]]>", "CDATA section");
    } else if (rest.starts_with("<?")) {
      error = skip_to(i + 2, "?>", "processing instruction");
    } else if (rest.starts_with("<!")) {
      // DOCTYPE carries entity declarations (XXE, billion laughs); nothing in DMN needs it.
      std::string upper(rest.substr(0, std::min<size_t>(9, rest.size())));
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (upper == "<!DOCTYPE") return ScanError{i, "DOCTYPE is not allowed"};
      return ScanError{i, "markup declarations ('<!...') are not allowed"};
    } else if (rest.starts_with("</")) {
      error = skip_to(i + 2, ">", "end tag");
      --depth;
    } else {
      size_t j = i + 1;
      char quote = 0;
      while (j < n) {
        const char ch = text[j];
        if (quote != 0) {
          if (ch == quote) {
            quote = 0;
          } else if (ch == '&') {
            auto [next, ref_error] = CheckReference(text, j);
            if (ref_error) return ref_error;
            j = next;
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
        return ScanError{i, StrCat("more than ", kMaxXmlElements, " XML elements")};
      }
      if (text[j - 1] != '/' && ++depth > kMaxNestingDepth) {
        return ScanError{i,
                         StrCat("elements are nested deeper than ", kMaxNestingDepth, " levels")};
      }
      i = j + 1;
      continue;
    }
    if (error) return error;
  }
  return std::nullopt;
}

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

std::string Excerpt(std::string_view text, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  for (; i < text.size() && out.size() < max_bytes; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (i < text.size()) {
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out;
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
  LineMap lines(xml);
  if (auto error = ValidateUtf8(xml)) {
    return Problem(resource_name, lines.LineOf(error->offset), error->message);
  }
  if (auto error = PreScan(xml)) {
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
