#include "base/xml_scan.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "base/strings.h"

namespace tern::base {
namespace {

std::string Hex(unsigned value, int digits) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%0*X", digits, value);
  return buffer;
}

bool IsXmlChar(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

bool IsNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const auto a = static_cast<unsigned char>(text[i]);
    const auto b = static_cast<unsigned char>(prefix[i]);
    if (std::toupper(a) != std::toupper(b)) return false;
  }
  return true;
}

// What a reference check found: the offset after the reference's ';', or an error.
struct ReferenceEnd {
  size_t next = 0;
  std::optional<XmlScanError> error;
};

// Checks the reference at text[i] == '&'. pugixml expands only the five predefined entities and
// character references and silently keeps anything else as literal text, so an undeclared
// `&xxe;` would reach the model; every other reference is an error here.
ReferenceEnd CheckReference(std::string_view text, size_t i) {
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
      return {0, XmlScanError{
                     i, StrCat("invalid character reference '",
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
    return {0, XmlScanError{i, StrCat("unresolved entity reference '&", Excerpt(name, 32),
                                      ";' (only the five predefined XML entities are allowed)")}};
  }
  return {0, XmlScanError{i, "'&' must be escaped as '&amp;'"}};
}

}  // namespace

XmlLineMap::XmlLineMap(std::string_view text) {
  starts_.push_back(0);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))) {
      starts_.push_back(i + 1);
    }
  }
}

int XmlLineMap::LineOf(size_t offset) const {
  return static_cast<int>(std::upper_bound(starts_.begin(), starts_.end(), offset) -
                          starts_.begin());
}

std::optional<XmlScanError> ValidateXmlUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return XmlScanError{i, StrCat("control character 0x", Hex(c, 2), " is not allowed in XML")};
      }
      ++i;
      continue;
    }
    size_t length = 0;
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
      return XmlScanError{i, StrCat("invalid UTF-8 byte 0x", Hex(c, 2))};
    }
    if (i + length > n) return XmlScanError{i, "truncated UTF-8 sequence"};
    for (size_t k = 1; k < length; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) {
        return XmlScanError{i, StrCat("invalid UTF-8 sequence starting with 0x", Hex(c, 2))};
      }
      code_point = (code_point << 6) | (cc & 0x3F);
    }
    if (code_point < min || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return XmlScanError{i, StrCat("invalid UTF-8 sequence starting with 0x", Hex(c, 2))};
    }
    if (!IsXmlChar(code_point)) {
      return XmlScanError{i, StrCat("character U+", Hex(code_point, 4), " is not allowed in XML")};
    }
    i += length;
  }
  return std::nullopt;
}

std::optional<XmlScanError> PreScanXml(std::string_view text, const XmlScanLimits& limits) {
  const size_t n = text.size();
  size_t i = 0;
  int depth = 0;
  size_t elements = 0;
  // Moves i past the next `terminator` after `from`.
  auto skip_to = [&](size_t from, std::string_view terminator,
                     std::string_view what) -> std::optional<XmlScanError> {
    const size_t end = text.find(terminator, from);
    if (end == std::string_view::npos) return XmlScanError{i, StrCat("unterminated ", what)};
    i = end + terminator.size();
    return std::nullopt;
  };
  while (i < n) {
    const char c = text[i];
    if (c == '&') {
      ReferenceEnd reference = CheckReference(text, i);
      if (reference.error) return reference.error;
      i = reference.next;
      continue;
    }
    if (c != '<') {
      ++i;
      continue;
    }
    const std::string_view rest = text.substr(i);
    std::optional<XmlScanError> error;
    if (rest.starts_with("<!--")) {
      error = skip_to(i + 4, "-->", "comment");
    } else if (rest.starts_with("<![CDATA[")) {
      error = skip_to(i + 9, "]]>", "CDATA section");
    } else if (rest.starts_with("<?")) {
      error = skip_to(i + 2, "?>", "processing instruction");
    } else if (rest.starts_with("<!")) {
      // DOCTYPE carries entity declarations (XXE, billion laughs); no BPMN or DMN model needs it.
      if (StartsWithIgnoreCase(rest, "<!DOCTYPE")) {
        return XmlScanError{i, "DOCTYPE is not allowed"};
      }
      return XmlScanError{i, "markup declarations ('<!...') are not allowed"};
    } else if (rest.starts_with("</")) {
      error = skip_to(i + 2, ">", "end tag");
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
            ReferenceEnd reference = CheckReference(text, j);
            if (reference.error) return reference.error;
            j = reference.next;
            continue;
          }
        } else if (ch == '"' || ch == '\'') {
          quote = ch;
        } else if (ch == '>') {
          break;
        }
        ++j;
      }
      if (j >= n) return XmlScanError{i, "unterminated start tag"};
      if (++elements > limits.max_elements) {
        return XmlScanError{i, StrCat("more than ", limits.max_elements, " XML elements")};
      }
      if (text[j - 1] != '/' && ++depth > limits.max_depth) {
        return XmlScanError{
            i, StrCat("elements are nested deeper than ", limits.max_depth, " levels")};
      }
      i = j + 1;
      continue;
    }
    if (error) return error;
  }
  return std::nullopt;
}

std::string Excerpt(std::string_view text, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  for (; i < text.size() && out.size() < max_bytes; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (i < text.size()) {
    // Do not cut a UTF-8 sequence in half: drop trailing continuation bytes and their lead.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out;
}

}  // namespace tern::base
