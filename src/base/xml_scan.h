#pragma once

// The text-level checks both XML readers (BPMN and DMN) run before pugixml sees a resource.
//
// pugixml never fetches anything, but it skips DOCTYPE declarations, keeps unknown entity
// references such as `&xxe;` as literal text and does not check UTF-8. These checks refuse all of
// that, and bound element count and nesting depth, in linear passes over the raw text, so
// hostile input is refused before a tree is allocated. Well-formedness is left to pugixml.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::base {

// Maps byte offsets to 1-based line numbers. XML treats "\r\n" and a lone "\r" as one line
// break each, so editors and our messages agree.
class XmlLineMap {
 public:
  explicit XmlLineMap(std::string_view text);
  int LineOf(size_t offset) const;

 private:
  std::vector<size_t> starts_;
};

struct XmlScanError {
  size_t offset = 0;  // of the offending byte in the scanned text
  std::string message;
};

// The first byte that is not well-formed UTF-8 encoding an XML character (control characters,
// surrogates, U+FFFE and U+FFFF included), with the reason; nullopt when the text is fine.
std::optional<XmlScanError> ValidateXmlUtf8(std::string_view text);

struct XmlScanLimits {
  size_t max_elements = 0;
  int max_depth = 0;
};

// One pass over the raw text: refuses DOCTYPE and every other markup declaration, references
// other than the five predefined entities and valid character references (in text and in
// attribute values), unterminated comments, CDATA sections, processing instructions and tags,
// and more elements or deeper nesting than `limits` allow.
std::optional<XmlScanError> PreScanXml(std::string_view text, const XmlScanLimits& limits);

// At most `max_bytes` of `text` for an error message: control characters become '?', a cut
// never splits a UTF-8 sequence, and a cut text ends in "...".
std::string Excerpt(std::string_view text, size_t max_bytes = 64);

}  // namespace tern::base
