// Built-in functions: DMN 1.5 §10.3.4 plus the Camunda (feel-scala) extensions Zeebe users
// rely on. Parameter names follow feel-scala so named-argument calls behave the same.
// Convention: a function given arguments of the wrong kind returns null (feel-scala reports a
// warning and yields null); only budget and recursion failures fail the evaluation.
//
// Memory: a function that builds a string, list or context checks its size before allocating it
// (ctx.CheckString/CheckList/CheckContext against the collection limit and what is left of the
// evaluation's memory budget); InvokeBuiltin then charges the finished result. Values nested in
// a result (the strings of split(), the contexts of get entries()) are charged with ctx.Charge
// before each is made. Temporary buffers are at most a small multiple of the arguments' sizes.

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "feel/eval.h"
#include "feel/feel.h"
#include "re2/re2.h"

namespace tern::feel::internal {
namespace {

using Args = const Value*;

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;

bool Ret(Value* out, Value v) {
  *out = std::move(v);
  return true;
}
bool RetNull(Value* out) { return Ret(out, Value()); }

// ---- UTF-8 helpers (positions in FEEL strings count Unicode code points) ----

// The byte offset `count` code points after byte offset `from` (or the end of s).
size_t ByteOffsetOfCodePoint(const std::string& s, size_t from, int64_t count) {
  size_t i = from;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (count == 0) return i;
      --count;
    }
  }
  return s.size();
}

int64_t CodePointCount(const std::string& s) {
  int64_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

uint32_t DecodeAt(const std::string& s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (*i + len > s.size()) len = 1;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3F);
  *i += len;
  return cp;
}

void Encode(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Simple case mapping for ASCII, Latin-1, Latin Extended-A pairs, Greek and Cyrillic.
uint32_t ToUpper(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x17F && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F) {
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper) return (c % 2 == 0) ? c - 1 : c;
    return (c % 2 == 1) ? c - 1 : c;
  }
  if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}
uint32_t ToLower(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x138 && c != 0x149 && c != 0x17F) {
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper) return (c % 2 == 1) ? c + 1 : c;
    return (c % 2 == 0) ? c + 1 : c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

std::string MapCase(const std::string& s, bool upper) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = DecodeAt(s, &i);
    Encode(&out, upper ? ToUpper(cp) : ToLower(cp));
  }
  return out;
}

bool IsWhitespaceCp(uint32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

// ---- Regular expressions (RE2: linear time, no backreferences) ----

// True when the pattern uses a construct RE2 deliberately lacks (backreferences, lookaround):
// those are reported as errors; other invalid patterns make the function return null.
bool UsesUnsupportedConstruct(const std::string& p) {
  bool in_class = false;
  int groups = 0;  // capturing groups opened so far
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      // A backreference to an existing group is valid XPath; to a missing one it is invalid.
      if (e >= '1' && e <= '9') return !in_class && (e - '0') <= groups;
      ++i;
      continue;
    }
    if (!in_class && c == '(' && (i + 1 >= p.size() || p[i + 1] != '?')) ++groups;
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    if (!in_class && c == '(' && i + 2 < p.size() && p[i + 1] == '?' &&
        (p[i + 2] == '=' || p[i + 2] == '!' || p[i + 2] == '<')) {
      return true;
    }
  }
  return false;
}

// ---- XPath regular-expression features RE2 lacks, rewritten into RE2 syntax ----

// Code point at p[i] (UTF-8); advances i past it. Invalid bytes are taken as one code point.
uint32_t NextCodePoint(const std::string& p, size_t* i) {
  const auto c = static_cast<unsigned char>(p[*i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (*i + static_cast<size_t>(len) > p.size()) len = 1;
  uint32_t cp = len == 1 ? c : (c & (0x7F >> len));
  for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(p[*i + k]) & 0x3F);
  *i += static_cast<size_t>(len);
  return cp;
}

std::string HexCodePoint(uint32_t cp) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "\\x{%X}", cp);
  return buffer;
}

// XPath/XML Schema block escapes (\p{IsBasicLatin}): the blocks decision models use.
bool UnicodeBlock(std::string_view name, uint32_t* lo, uint32_t* hi) {
  static constexpr struct {
    std::string_view name;
    uint32_t lo, hi;
  } kBlocks[] = {
      {"BasicLatin", 0x0000, 0x007F},
      {"Latin-1Supplement", 0x0080, 0x00FF},
      {"LatinExtended-A", 0x0100, 0x017F},
      {"LatinExtended-B", 0x0180, 0x024F},
      {"IPAExtensions", 0x0250, 0x02AF},
      {"SpacingModifierLetters", 0x02B0, 0x02FF},
      {"CombiningDiacriticalMarks", 0x0300, 0x036F},
      {"Greek", 0x0370, 0x03FF},
      {"GreekandCoptic", 0x0370, 0x03FF},
      {"Cyrillic", 0x0400, 0x04FF},
      {"Armenian", 0x0530, 0x058F},
      {"Hebrew", 0x0590, 0x05FF},
      {"Arabic", 0x0600, 0x06FF},
      {"Devanagari", 0x0900, 0x097F},
      {"Thai", 0x0E00, 0x0E7F},
      {"LatinExtendedAdditional", 0x1E00, 0x1EFF},
      {"GreekExtended", 0x1F00, 0x1FFF},
      {"GeneralPunctuation", 0x2000, 0x206F},
      {"CurrencySymbols", 0x20A0, 0x20CF},
      {"LetterlikeSymbols", 0x2100, 0x214F},
      {"Arrows", 0x2190, 0x21FF},
      {"MathematicalOperators", 0x2200, 0x22FF},
      {"BoxDrawing", 0x2500, 0x257F},
      {"Hiragana", 0x3040, 0x309F},
      {"Katakana", 0x30A0, 0x30FF},
      {"CJKUnifiedIdeographs", 0x4E00, 0x9FFF},
      {"HangulSyllables", 0xAC00, 0xD7AF},
  };
  for (const auto& b : kBlocks) {
    if (b.name == name) {
      *lo = b.lo;
      *hi = b.hi;
      return true;
    }
  }
  return false;
}

using Intervals = std::vector<std::pair<uint32_t, uint32_t>>;

// Reads the items of a character class of literal characters and ranges starting at p[*i]
// (after '[' and an optional '^'), up to ']' or a subtraction "-[". False for anything else
// (\d, \p{...} ...): such classes are left to RE2.
bool ReadSimpleClass(const std::string& p, size_t* i, Intervals* out) {
  while (*i < p.size()) {
    if (p[*i] == ']') return true;
    if (p[*i] == '-' && *i + 1 < p.size() && p[*i + 1] == '[') return true;
    uint32_t lo;
    if (p[*i] == '\\') {
      if (*i + 1 >= p.size()) return false;
      const char e = p[*i + 1];
      if (std::string_view("\\[]-^.|?*+(){}").find(e) == std::string_view::npos) return false;
      lo = static_cast<unsigned char>(e);
      *i += 2;
    } else {
      lo = NextCodePoint(p, i);
    }
    uint32_t hi = lo;
    if (*i + 1 < p.size() && p[*i] == '-' && p[*i + 1] != ']' && p[*i + 1] != '[') {
      ++*i;
      if (p[*i] == '\\') {
        if (*i + 1 >= p.size()) return false;
        hi = static_cast<unsigned char>(p[*i + 1]);
        *i += 2;
      } else {
        hi = NextCodePoint(p, i);
      }
      if (hi < lo) return false;
    }
    out->emplace_back(lo, hi);
  }
  return false;
}

Intervals Normalize(Intervals v) {
  std::sort(v.begin(), v.end());
  Intervals out;
  for (const auto& r : v) {
    if (!out.empty() && r.first <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, r.second);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

Intervals Subtract(const Intervals& a, const Intervals& b) {
  Intervals out;
  for (auto [lo, hi] : a) {
    for (const auto& [blo, bhi] : b) {
      if (bhi < lo || blo > hi) continue;
      if (blo > lo) out.emplace_back(lo, blo - 1);
      lo = bhi + 1;
      if (bhi >= hi) {
        lo = hi + 1;
        break;
      }
    }
    if (lo <= hi) out.emplace_back(lo, hi);
  }
  return out;
}

Intervals Complement(const Intervals& a) { return Subtract({{0, 0x10FFFF}}, a); }

std::string ClassOf(const Intervals& v) {
  if (v.empty()) return "[^\\x{0}-\\x{10FFFF}]";  // matches nothing
  std::string out = "[";
  for (const auto& [lo, hi] : v) {
    absl::StrAppend(&out, HexCodePoint(lo));
    if (hi != lo) absl::StrAppend(&out, "-", HexCodePoint(hi));
  }
  out.push_back(']');
  return out;
}

// The code points of a class with XPath subtraction ("[a-z-[aeiou]]") at p[*i] == '['; nullopt
// when it uses items ReadSimpleClass does not know. Advances *i past the class.
std::optional<Intervals> ClassIntervals(const std::string& p, size_t* i, int depth) {
  if (depth > 8) return std::nullopt;
  size_t j = *i + 1;
  const bool negated = j < p.size() && p[j] == '^';
  if (negated) ++j;
  Intervals base;
  if (!ReadSimpleClass(p, &j, &base)) return std::nullopt;
  Intervals set = Normalize(base);
  if (negated) set = Complement(set);
  if (j < p.size() && p[j] == '-') {
    ++j;
    std::optional<Intervals> sub = ClassIntervals(p, &j, depth + 1);
    if (!sub) return std::nullopt;
    set = Subtract(set, *sub);
  }
  if (j >= p.size() || p[j] != ']') return std::nullopt;
  *i = j + 1;
  return set;
}

// Rewrites XPath-only constructs RE2 lacks: class subtraction, \p{IsBlock} escapes. Sets
// *invalid for patterns XPath rejects but RE2 accepts (\0).
std::string TranslateXPath(const std::string& p, bool* invalid) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      if (e == '0') {
        *invalid = true;  // XPath has no \0 (back-references start at \1)
        return p;
      }
      if ((e == 'p' || e == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
        const size_t close = p.find('}', i + 3);
        if (close != std::string::npos) {
          std::string_view name(p.data() + i + 3, close - i - 3);
          uint32_t lo, hi;
          if (name.starts_with("Is") && UnicodeBlock(name.substr(2), &lo, &hi)) {
            std::string range = absl::StrCat(HexCodePoint(lo), "-", HexCodePoint(hi));
            if (in_class) {
              if (e == 'P') return p;  // negated block inside a class: left to RE2
              absl::StrAppend(&out, range);
            } else {
              absl::StrAppend(&out, e == 'p' ? "[" : "[^", range, "]");
            }
            i = close + 1;
            continue;
          }
        }
      }
      out.push_back(c);
      out.push_back(e);
      i += 2;
      continue;
    }
    if (!in_class && c == '[') {
      // Does this class contain a subtraction?
      size_t j = i + 1, nested = 0;
      bool has_subtraction = false;
      while (j < p.size()) {
        if (p[j] == '\\') {
          j += 2;
          continue;
        }
        if (p[j] == '-' && j + 1 < p.size() && p[j + 1] == '[') {
          has_subtraction = true;
          ++nested;
          j += 2;
          continue;
        }
        if (p[j] == ']') {
          if (nested == 0) break;
          --nested;
        }
        ++j;
      }
      if (has_subtraction) {
        size_t k = i;
        if (std::optional<Intervals> cls = ClassIntervals(p, &k, 0)) {
          out += ClassOf(*cls);
          i = k;
          continue;
        }
      }
      in_class = true;
      out.push_back(c);
      ++i;
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out.push_back(c);
    ++i;
  }
  return out;
}

// XPath's `.` matches anything but \n and \r; RE2's only excludes \n. Rewrites unescaped dots
// outside classes when the s flag is off.
std::string TranslateDots(const std::string& p) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      out.push_back(c);
      out.push_back(p[++i]);
      continue;
    }
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    if (c == '.' && !in_class) {
      out += "[^\\n\\r]";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Compiles an XPath-style pattern with flags (s, m, i, x, q). nullptr if RE2 rejects it; then
// *unsupported tells whether the pattern is valid XPath that RE2 cannot run.
std::unique_ptr<RE2> CompileRegex(const std::string& pattern, const std::string& flags,
                                  std::string* error, bool* unsupported) {
  *unsupported = false;
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(8 << 20);
  std::string p = pattern;
  bool dot_all = flags.find('s') != std::string::npos;
  bool literal = flags.find('q') != std::string::npos;
  for (char f : flags) {
    switch (f) {
      case 's':
        opts.set_dot_nl(true);
        break;
      case 'm':
        break;  // handled below with (?m)
      case 'i':
        opts.set_case_sensitive(false);
        break;
      case 'q':
        opts.set_literal(true);
        break;
      case 'x': {
        // Remove whitespace outside character classes (XPath: even after a backslash).
        std::string q;
        bool in_class = false;
        for (size_t i = 0; i < p.size(); ++i) {
          char c = p[i];
          if (c == '\\' && i + 1 < p.size() && p[i + 1] != ' ' && p[i + 1] != '\t' &&
              p[i + 1] != '\n' && p[i + 1] != '\r') {
            q.push_back(c);
            q.push_back(p[++i]);
            continue;
          }
          if (c == '[') in_class = true;
          if (c == ']') in_class = false;
          if (!in_class && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) continue;
          q.push_back(c);
        }
        p = q;
        break;
      }
      default:
        *error = absl::StrCat("invalid regular expression flag '", std::string(1, f), "'");
        return nullptr;
    }
  }
  if (!literal) {
    bool invalid = false;
    p = TranslateXPath(p, &invalid);
    if (invalid) {
      *error = absl::StrCat("invalid regular expression '", pattern.substr(0, 80), "'");
      return nullptr;
    }
  }
  if (!dot_all && !literal) p = TranslateDots(p);
  if (!literal && flags.find('m') != std::string::npos) p = "(?m)" + p;
  auto re = std::make_unique<RE2>(p, opts);
  if (!re->ok()) {
    *unsupported = !literal && UsesUnsupportedConstruct(pattern);
    *error = absl::StrCat(
        *unsupported ? "unsupported regular expression '" : "invalid regular expression '",
        pattern.substr(0, 80), "': ", re->error(),
        *unsupported ? " (backreferences and lookaround cannot run in linear time; RE2 rejects "
                       "them)"
                     : "");
    return nullptr;
  }
  return re;
}

// A small per-thread cache so a pattern used in a loop compiles once.
const RE2* CachedRegex(const std::string& pattern, const std::string& flags, std::string* error,
                       bool* unsupported) {
  thread_local absl::flat_hash_map<std::string, std::unique_ptr<RE2>> cache;
  std::string key = absl::StrCat(flags, "\x01", pattern);
  auto it = cache.find(key);
  *unsupported = false;
  if (it != cache.end()) return it->second.get();
  auto re = CompileRegex(pattern, flags, error, unsupported);
  if (!re) return nullptr;
  if (cache.size() > 256) cache.clear();
  return cache.emplace(std::move(key), std::move(re)).first->second.get();
}

// Invalid patterns and flags make the function null (spec, feel-scala); valid patterns RE2
// cannot run fail the evaluation so the user learns why.
bool RegexError(EvalContext& ctx, const std::string& error, bool unsupported, Value* out) {
  if (unsupported) return ctx.Fail(absl::InvalidArgumentError(error));
  *out = Value();
  return true;
}

// ---- Arg helpers ----

// The longest string the evaluation may still create: the collection limit or what is left of
// the memory budget, whichever is smaller.
size_t MaxNewStringBytes(const EvalContext& ctx) {
  int64_t n = std::min(ctx.options->max_collection_size, ctx.bytes_left - 32);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool AllNumbers(const std::vector<Value>& items) {
  for (const Value& v : items) {
    if (!v.is_number()) return false;
  }
  return true;
}

std::optional<int64_t> IntArg(const Value& v) {
  if (!v.is_number()) return std::nullopt;
  return v.as_number().TruncateToInt64();
}

// ================= Conversion =================

bool FnString(EvalContext& ctx, Args a, size_t, Value* out) {
  if (a[0].is_null()) return RetNull(out);
  if (a[0].is_string()) return Ret(out, a[0]);
  std::string text;
  if (!ToFeelStringWithin(a[0], MaxNewStringBytes(ctx), &text)) {
    return ctx.CheckString(text.size());  // fails, naming the limit
  }
  if (!ctx.Step(static_cast<int64_t>(text.size() / 64))) return false;
  return Ret(out, Value::String(std::move(text)));
}

bool FnNumber1(EvalContext&, Args a, size_t, Value* out) {
  if (a[0].is_number()) return Ret(out, a[0]);
  if (!a[0].is_string()) return RetNull(out);
  auto d = Decimal::Parse(a[0].as_string());
  return Ret(out, d ? Value::Number(*d) : Value());
}

bool FnNumber3(EvalContext&, Args a, size_t n, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  if (n > 1 && !a[1].is_null() && !a[1].is_string()) return RetNull(out);
  if (n > 2 && !a[2].is_null() && !a[2].is_string()) return RetNull(out);
  std::string group = n > 1 && a[1].is_string() ? a[1].as_string() : "";
  // Without an explicit decimal separator "." is assumed, unless it is the grouping separator.
  std::string dec = n > 2 && a[2].is_string() ? a[2].as_string() : (group == "." ? "" : ".");
  // DMN: grouping separator one of space, comma, period; decimal separator comma or period.
  if (!group.empty() && group != " " && group != "," && group != ".") return RetNull(out);
  if (!dec.empty() && dec != "," && dec != ".") return RetNull(out);
  if (!group.empty() && group == dec) return RetNull(out);
  std::string s;
  const std::string& in = a[0].as_string();
  for (size_t i = 0; i < in.size(); ++i) {
    if (!group.empty() && in.compare(i, group.size(), group) == 0) {
      i += group.size() - 1;
      continue;
    }
    if (!dec.empty() && in.compare(i, dec.size(), dec) == 0) {
      s.push_back('.');
      i += dec.size() - 1;
      continue;
    }
    s.push_back(in[i]);
  }
  auto d = Decimal::Parse(s);
  return Ret(out, d ? Value::Number(*d) : Value());
}

bool FnDate1(EvalContext&, Args a, size_t, Value* out) {
  if (a[0].is_date()) return Ret(out, a[0]);
  if (a[0].is_date_time()) return Ret(out, Value::Date(Date{a[0].as_date_time().days}));
  if (!a[0].is_string()) return RetNull(out);
  auto d = ParseDate(a[0].as_string());
  return Ret(out, d ? Value::Date(*d) : Value());
}

bool FnDate3(EvalContext&, Args a, size_t, Value* out) {
  auto y = a[0].as_int64(), m = a[1].as_int64(), d = a[2].as_int64();
  if (!y || !m || !d || *m < 1 || *m > 12 || *d < 1 || *y > 999999999 || *y < -999999999) {
    return RetNull(out);
  }
  if (*d > DaysInMonth(*y, static_cast<int>(*m))) return RetNull(out);
  return Ret(out, Value::Date(Date{DaysFromCivil(*y, static_cast<int>(*m), static_cast<int>(*d))}));
}

bool FnDateTime1(EvalContext&, Args a, size_t, Value* out) {
  if (a[0].is_date_time()) return Ret(out, a[0]);
  if (a[0].is_date()) {
    DateTime dt;
    dt.days = a[0].as_date().days;
    return Ret(out, Value::DateTime(dt));
  }
  if (!a[0].is_string()) return RetNull(out);
  const std::string& s = a[0].as_string();
  if (auto d = ParseDate(s)) {
    DateTime dt;
    dt.days = d->days;
    return Ret(out, Value::DateTime(dt));
  }
  auto dt = ParseDateTime(s);
  return Ret(out, dt ? Value::DateTime(*dt) : Value());
}

bool FnDateTime2(EvalContext&, Args a, size_t, Value* out) {
  // date and time(date, time): the date part of a date (or date-time) and a time.
  int64_t days;
  if (a[0].is_date()) {
    days = a[0].as_date().days;
  } else if (a[0].is_date_time()) {
    days = a[0].as_date_time().days;
  } else {
    return RetNull(out);
  }
  if (a[1].is_string()) {
    // Camunda: date and time(date, "Europe/Berlin") is not DMN; a time string is accepted.
    auto t = ParseTime(a[1].as_string());
    if (!t) return RetNull(out);
    DateTime dt{days, t->nanos, t->zone_kind, t->offset_seconds, t->zone_id};
    if (!ResolveZoneOffset(&dt)) return RetNull(out);
    return Ret(out, Value::DateTime(dt));
  }
  if (!a[1].is_time()) return RetNull(out);
  const Time& t = a[1].as_time();
  DateTime dt{days, t.nanos, t.zone_kind, t.offset_seconds, t.zone_id};
  if (!ResolveZoneOffset(&dt)) return RetNull(out);
  return Ret(out, Value::DateTime(dt));
}

bool FnTime1(EvalContext&, Args a, size_t, Value* out) {
  if (a[0].is_time()) return Ret(out, a[0]);
  if (a[0].is_date_time()) {
    const DateTime& dt = a[0].as_date_time();
    Time t{dt.nanos, dt.zone_kind, dt.offset_seconds, dt.zone_id};
    return Ret(out, Value::Time(t));
  }
  if (a[0].is_date()) return Ret(out, Value::Time(Time{0, ZoneKind::kOffset, 0, ""}));
  if (!a[0].is_string()) return RetNull(out);
  auto t = ParseTime(a[0].as_string());
  return Ret(out, t ? Value::Time(*t) : Value());
}

bool FnTime34(EvalContext&, Args a, size_t n, Value* out) {
  auto h = a[0].as_int64(), m = a[1].as_int64();
  if (!h || !m || !a[2].is_number()) return RetNull(out);
  Decimal sec = a[2].as_number();
  if (*h < 0 || *h > 23 || *m < 0 || *m > 59 || sec.IsNegative() ||
      !(sec < Decimal::FromInt64(60))) {
    return RetNull(out);
  }
  auto sec_nanos = sec.Mul(Decimal::FromInt64(kNanosPerSecond));
  if (!sec_nanos) return RetNull(out);
  auto sn = sec_nanos->Truncate().ToInt64();
  if (!sn) return RetNull(out);
  Time t;
  t.nanos = (*h * 3600 + *m * 60) * kNanosPerSecond + *sn;
  if (n > 3 && !a[3].is_null()) {
    if (!a[3].is_days_time_duration()) return RetNull(out);
    const auto& d = a[3].as_days_time_duration();
    if (d.nanos != 0 || d.seconds > 18 * 3600 || d.seconds < -18 * 3600) return RetNull(out);
    t.zone_kind = ZoneKind::kOffset;
    t.offset_seconds = static_cast<int32_t>(d.seconds);
  }
  return Ret(out, Value::Time(t));
}

bool FnDuration(EvalContext&, Args a, size_t, Value* out) {
  if (a[0].is_days_time_duration() || a[0].is_years_months_duration()) return Ret(out, a[0]);
  if (!a[0].is_string()) return RetNull(out);
  const std::string& s = a[0].as_string();
  if (auto ym = ParseYearsMonthsDuration(s)) return Ret(out, Value::YearsMonthsDuration(*ym));
  if (auto dt = ParseDaysTimeDuration(s)) return Ret(out, Value::DaysTimeDuration(*dt));
  return RetNull(out);
}

bool FnYearsMonthsDuration(EvalContext&, Args a, size_t, Value* out) {
  auto days_of = [](const Value& v) -> std::optional<int64_t> {
    if (v.is_date()) return v.as_date().days;
    if (v.is_date_time()) return v.as_date_time().days;
    return std::nullopt;
  };
  auto from = days_of(a[0]), to = days_of(a[1]);
  if (!from || !to) return RetNull(out);
  int64_t y1, y2;
  int m1, d1, m2, d2;
  CivilFromDays(*from, &y1, &m1, &d1);
  CivilFromDays(*to, &y2, &m2, &d2);
  int64_t months = (y2 - y1) * 12 + (m2 - m1);
  // Period.between: a partial month does not count.
  if (months > 0 && d2 < d1) --months;
  if (months < 0 && d2 > d1) ++months;
  return Ret(out, Value::YearsMonthsDuration({months}));
}

Value JsonToValueOrNull(const std::string& s) {
  absl::StatusOr<Value> v = ValueFromJson(s);
  return v.ok() ? *v : Value();
}

bool FnFromJson(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  const size_t size = a[0].as_string().size();
  if (!ctx.Step(static_cast<int64_t>(size / 16))) return false;
  // A JSON text of n bytes holds at most n / 2 + 1 values ("[0,0,...]"): the worst case must fit
  // what is left of the memory budget before parsing starts.
  if (!ctx.CheckAllocation(0, static_cast<int64_t>((size / 2 + 1) * sizeof(Value)))) return false;
  if (!ctx.Charge(static_cast<int64_t>(size))) return false;  // the values nested in the result
  return Ret(out, JsonToValueOrNull(a[0].as_string()));
}

bool FnToJson(EvalContext& ctx, Args a, size_t, Value* out) {
  std::optional<std::string> json = ValueToJsonWithin(a[0], MaxNewStringBytes(ctx));
  if (!json) return ctx.CheckString(MaxNewStringBytes(ctx) + 1);  // fails, naming the limit
  if (!ctx.Step(static_cast<int64_t>(json->size() / 64))) return false;
  return Ret(out, Value::String(std::move(*json)));
}

// ================= Boolean =================

bool FnNot(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_bool()) return RetNull(out);
  return Ret(out, Value::Bool(!a[0].as_bool()));
}

bool FnIsDefined(EvalContext&, Args a, size_t, Value* out) {
  return Ret(out, Value::Bool(!a[0].is_null()));
}

bool FnGetOrElse(EvalContext&, Args a, size_t, Value* out) {
  return Ret(out, a[0].is_null() ? a[1] : a[0]);
}

bool FnAssert(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (a[1].is_bool() && a[1].as_bool()) return Ret(out, a[0]);
  std::string cause =
      n > 2 && a[2].is_string() ? a[2].as_string() : "The condition is not fulfilled";
  return ctx.Fail(absl::FailedPreconditionError(absl::StrCat("FEEL assertion failed: ", cause)));
}

bool FnIs(EvalContext&, Args a, size_t, Value* out) {
  // DMN `is(value1, value2)`: same kind and equal (date-time also same zone form).
  if (a[0].kind() != a[1].kind()) return Ret(out, Value::Bool(false));
  if (a[0].is_date_time()) {
    const DateTime& x = a[0].as_date_time();
    const DateTime& y = a[1].as_date_time();
    return Ret(out,
               Value::Bool(x.days == y.days && x.nanos == y.nanos && x.zone_kind == y.zone_kind &&
                           x.offset_seconds == y.offset_seconds && x.zone_id == y.zone_id));
  }
  if (a[0].is_time()) {
    const Time& x = a[0].as_time();
    const Time& y = a[1].as_time();
    return Ret(out, Value::Bool(x.nanos == y.nanos && x.zone_kind == y.zone_kind &&
                                x.offset_seconds == y.offset_seconds && x.zone_id == y.zone_id));
  }
  Value e = FeelEquals(a[0], a[1]);
  return Ret(out, Value::Bool(e.is_bool() && e.as_bool()));
}

// ================= String =================

bool FnSubstring(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  auto start = IntArg(a[1]);
  if (!start) return RetNull(out);
  const std::string& s = a[0].as_string();
  if (!ctx.Step(static_cast<int64_t>(s.size() / 64))) return false;
  int64_t len = CodePointCount(s);
  int64_t from = *start > 0 ? *start - 1 : len + *start;
  if (*start == 0) from = 0;
  from = std::clamp<int64_t>(from, 0, len);
  int64_t count = len - from;
  if (n > 2) {
    if (!a[2].is_number()) return RetNull(out);
    auto l = a[2].as_number().Truncate().TruncateToInt64();
    if (!l || *l < 0) return RetNull(out);
    count = std::min(count, *l);
  }
  const size_t begin = ByteOffsetOfCodePoint(s, 0, from);
  const size_t end = ByteOffsetOfCodePoint(s, begin, count);
  if (!ctx.CheckString(end - begin)) return false;
  return Ret(out, Value::String(s.substr(begin, end - begin)));
}

bool FnStringLength(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  return Ret(out, Value::Number(CodePointCount(a[0].as_string())));
}

bool FnUpperCase(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].as_string().size() / 64))) return false;
  // The mapped characters keep their UTF-8 length, so the result is as long as the input.
  if (!ctx.CheckString(a[0].as_string().size())) return false;
  return Ret(out, Value::String(MapCase(a[0].as_string(), true)));
}

bool FnLowerCase(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].as_string().size() / 64))) return false;
  if (!ctx.CheckString(a[0].as_string().size())) return false;
  return Ret(out, Value::String(MapCase(a[0].as_string(), false)));
}

bool FnSubstringBefore(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string() || !a[1].is_string()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].as_string().size() / 64))) return false;
  size_t p = a[0].as_string().find(a[1].as_string());
  if (p == std::string::npos) return Ret(out, Value::String(""));
  if (!ctx.CheckString(p)) return false;
  return Ret(out, Value::String(a[0].as_string().substr(0, p)));
}

bool FnSubstringAfter(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string() || !a[1].is_string()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].as_string().size() / 64))) return false;
  size_t p = a[0].as_string().find(a[1].as_string());
  if (p == std::string::npos) return Ret(out, Value::String(""));
  const size_t from = p + a[1].as_string().size();
  if (!ctx.CheckString(a[0].as_string().size() - from)) return false;
  return Ret(out, Value::String(a[0].as_string().substr(from)));
}

bool FnContains(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_string() || !a[1].is_string()) return RetNull(out);
  return Ret(out, Value::Bool(a[0].as_string().find(a[1].as_string()) != std::string::npos));
}

bool FnStartsWith(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_string() || !a[1].is_string()) return RetNull(out);
  return Ret(out, Value::Bool(a[0].as_string().starts_with(a[1].as_string())));
}

bool FnEndsWith(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_string() || !a[1].is_string()) return RetNull(out);
  return Ret(out, Value::Bool(a[0].as_string().ends_with(a[1].as_string())));
}

bool FnMatches(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (!a[0].is_string() || !a[1].is_string()) return RetNull(out);
  if (n > 2 && !a[2].is_null() && !a[2].is_string()) return RetNull(out);
  std::string flags = n > 2 && a[2].is_string() ? a[2].as_string() : "";
  std::string err;
  bool unsupported = false;
  const RE2* re = CachedRegex(a[1].as_string(), flags, &err, &unsupported);
  if (re == nullptr) return RegexError(ctx, err, unsupported, out);
  if (!ctx.Step(static_cast<int64_t>(a[0].as_string().size() / 16))) return false;
  return Ret(out, Value::Bool(RE2::PartialMatch(a[0].as_string(), *re)));
}

// Converts a Java/XPath replacement ($1, \$) to RE2's (\1, $ literal).
bool ConvertReplacement(const std::string& in, std::string* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\') {
      if (i + 1 >= in.size()) return false;
      char e = in[++i];
      if (e == '\\') {
        *out += "\\\\";
      } else {
        out->push_back(e);
      }
    } else if (c == '$') {
      if (i + 1 >= in.size() || !(in[i + 1] >= '0' && in[i + 1] <= '9')) return false;
      out->push_back('\\');
      out->push_back(in[++i]);
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// Bytes `rewrite` (RE2 syntax: \0-\9 name groups, \\ is a backslash) adds for one match.
size_t RewriteSize(std::string_view rewrite, const re2::StringPiece* groups) {
  size_t size = 0;
  for (size_t i = 0; i < rewrite.size(); ++i) {
    if (rewrite[i] == '\\' && i + 1 < rewrite.size()) {
      char e = rewrite[++i];
      size += e >= '0' && e <= '9' ? groups[e - '0'].size() : 1;
    } else {
      ++size;
    }
  }
  return size;
}

// RE2::GlobalReplace with the result's size checked before each piece is appended: a short
// input can ask for a huge result (replace(s, "a", s) is quadratic in the length of s).
// Empty matches are handled as GlobalReplace does: not right after a previous match, and the
// text advances by one character.
bool ReplaceAll(EvalContext& ctx, const std::string& s, const RE2& re, const std::string& rewrite,
                std::string* result) {
  const int groups = 1 + RE2::MaxSubmatch(rewrite);
  std::vector<re2::StringPiece> vec(static_cast<size_t>(groups));
  const re2::StringPiece text(s);
  size_t pos = 0;
  size_t last_end = std::string::npos;
  auto append = [&](size_t bytes) { return ctx.CheckString(result->size() + bytes); };
  while (pos <= s.size()) {
    if (!re.Match(text, pos, s.size(), RE2::UNANCHORED, vec.data(), groups)) break;
    if (!ctx.Step()) return false;
    const size_t start = static_cast<size_t>(vec[0].data() - s.data());
    if (!append(start - pos)) return false;
    result->append(s, pos, start - pos);
    pos = start;
    if (vec[0].empty() && start == last_end) {
      // No empty match right after a match: copy one character and go on.
      if (pos >= s.size()) break;
      size_t char_len = 1;
      while (pos + char_len < s.size() &&
             (static_cast<unsigned char>(s[pos + char_len]) & 0xC0) == 0x80 && char_len < 4) {
        ++char_len;
      }
      if (!append(char_len)) return false;
      result->append(s, pos, char_len);
      pos += char_len;
      continue;
    }
    if (!append(RewriteSize(rewrite, vec.data()))) return false;
    re.Rewrite(result, rewrite, vec.data(), groups);
    pos = start + vec[0].size();
    last_end = pos;
  }
  if (pos < s.size()) {
    if (!append(s.size() - pos)) return false;
    result->append(s, pos, std::string::npos);
  }
  return true;
}

bool FnReplace(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (!a[0].is_string() || !a[1].is_string() || !a[2].is_string()) return RetNull(out);
  if (n > 3 && !a[3].is_null() && !a[3].is_string()) return RetNull(out);
  std::string flags = n > 3 && a[3].is_string() ? a[3].as_string() : "";
  std::string err;
  bool unsupported = false;
  const RE2* re = CachedRegex(a[1].as_string(), flags, &err, &unsupported);
  if (re == nullptr) return RegexError(ctx, err, unsupported, out);
  std::string rewrite;
  if (flags.find('q') != std::string::npos) {
    for (char c : a[2].as_string()) {
      if (c == '\\') rewrite.push_back('\\');
      rewrite.push_back(c);
    }
  } else if (!ConvertReplacement(a[2].as_string(), &rewrite)) {
    return RetNull(out);
  }
  std::string err2;
  if (!re->CheckRewriteString(rewrite, &err2)) return RetNull(out);
  const std::string& s = a[0].as_string();
  if (!ctx.Step(static_cast<int64_t>(s.size() / 16))) return false;
  std::string result;
  if (!ReplaceAll(ctx, s, *re, rewrite, &result)) return false;
  return Ret(out, Value::String(std::move(result)));
}

bool FnSplit(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string() || !a[1].is_string()) return RetNull(out);
  std::string err;
  bool unsupported = false;
  const RE2* re = CachedRegex(a[1].as_string(), "", &err, &unsupported);
  if (re == nullptr) return RegexError(ctx, err, unsupported, out);
  const std::string& s = a[0].as_string();
  if (!ctx.Step(static_cast<int64_t>(s.size() / 16))) return false;
  std::vector<Value> parts;
  re2::StringPiece input(s);
  size_t last = 0;
  size_t pos = 0;
  re2::StringPiece m;
  while (pos <= s.size() && re->Match(input, pos, s.size(), RE2::UNANCHORED, &m, 1)) {
    size_t start = m.data() - s.data();
    size_t end = start + m.size();
    if (m.empty()) {
      // Empty matches split between characters (skip the one at the very start).
      if (start >= s.size()) break;
      if (start == 0) {
        pos = 1;
        continue;
      }
    }
    if (!ctx.CheckList(parts.size() + 1)) return false;
    if (!ctx.Charge(static_cast<int64_t>(start - last) + 32)) return false;
    parts.push_back(Value::String(s.substr(last, start - last)));
    last = end;
    pos = m.empty() ? end + 1 : end;
  }
  if (!ctx.CheckList(parts.size() + 1)) return false;
  if (!ctx.Charge(static_cast<int64_t>(s.size() - last) + 32)) return false;
  parts.push_back(Value::String(s.substr(last)));
  return Ret(out, Value::List(std::move(parts)));
}

bool FnExtract(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string() || !a[1].is_string()) return RetNull(out);
  std::string err;
  bool unsupported = false;
  const RE2* re = CachedRegex(a[1].as_string(), "", &err, &unsupported);
  if (re == nullptr) return RegexError(ctx, err, unsupported, out);
  const std::string& s = a[0].as_string();
  if (!ctx.Step(static_cast<int64_t>(s.size() / 16))) return false;
  std::vector<Value> found;
  size_t pos = 0;
  re2::StringPiece m;
  while (pos <= s.size() && re->Match(s, pos, s.size(), RE2::UNANCHORED, &m, 1)) {
    size_t start = m.data() - s.data();
    if (!ctx.CheckList(found.size() + 1)) return false;
    if (!ctx.Charge(static_cast<int64_t>(m.size()) + 32)) return false;
    found.push_back(Value::String(std::string(m)));
    pos = m.empty() ? start + 1 : start + m.size();
  }
  return Ret(out, Value::List(std::move(found)));
}

bool FnTrim(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  const std::string& s = a[0].as_string();
  size_t b = 0, e = s.size();
  while (b < e && static_cast<unsigned char>(s[b]) <= ' ') ++b;
  while (e > b && static_cast<unsigned char>(s[e - 1]) <= ' ') --e;
  if (!ctx.CheckString(e - b)) return false;
  return Ret(out, Value::String(s.substr(b, e - b)));
}

bool FnIsBlank(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  const std::string& s = a[0].as_string();
  size_t i = 0;
  while (i < s.size()) {
    if (!IsWhitespaceCp(DecodeAt(s, &i))) return Ret(out, Value::Bool(false));
  }
  return Ret(out, Value::Bool(true));
}

bool FnUuid(EvalContext& ctx, Args, size_t, Value* out) {
  // Version-4 layout from the deterministic per-evaluation generator.
  uint64_t hi = ctx.NextRandom(), lo = ctx.NextRandom();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return Ret(out, Value::String(buf));
}

bool FnToBase64(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].as_string().size() / 64))) return false;
  if (!ctx.CheckString((a[0].as_string().size() + 2) / 3 * 4)) return false;
  return Ret(out, Value::String(absl::Base64Escape(a[0].as_string())));
}

bool FnFromBase64(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].as_string().size() / 64))) return false;
  if (!ctx.CheckString(a[0].as_string().size() / 4 * 3 + 3)) return false;
  std::string decoded;
  if (!absl::Base64Unescape(a[0].as_string(), &decoded)) return RetNull(out);
  return Ret(out, Value::String(std::move(decoded)));
}

bool FnStringJoin(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (a[0].is_string()) {
    // A single string is a list of one (DMN singleton-list conversion).
    Value list = Value::List({a[0]});
    Value args[4] = {list, n > 1 ? a[1] : Value(), n > 2 ? a[2] : Value(), n > 3 ? a[3] : Value()};
    return FnStringJoin(ctx, args, n, out);
  }
  if (!a[0].is_list()) return RetNull(out);
  std::string delim, prefix, suffix;
  if (n > 1) {
    if (a[1].is_string()) {
      delim = a[1].as_string();
    } else if (!a[1].is_null()) {
      return RetNull(out);
    }
  }
  if (n > 2) {
    if (!a[2].is_string() && !a[2].is_null()) return RetNull(out);
    if (!a[3].is_string() && !a[3].is_null()) return RetNull(out);
    if (a[2].is_string()) prefix = a[2].as_string();
    if (a[3].is_string()) suffix = a[3].as_string();
  }
  if (!ctx.Step(static_cast<int64_t>(a[0].list().size()))) return false;
  // The length first, so the result is checked before any of it is built.
  size_t length = prefix.size() + suffix.size();
  bool first = true;
  for (const Value& v : a[0].list()) {
    if (v.is_null()) continue;
    if (!v.is_string()) return RetNull(out);
    if (!first) length += delim.size();
    first = false;
    length += v.as_string().size();
  }
  if (!ctx.CheckString(length)) return false;
  std::string r;
  r.reserve(length);
  r += prefix;
  first = true;
  for (const Value& v : a[0].list()) {
    if (v.is_null()) continue;
    if (!first) r += delim;
    first = false;
    r += v.as_string();
  }
  r += suffix;
  return Ret(out, Value::String(std::move(r)));
}

// ================= List =================

bool FnListContains(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].list().size()))) return false;
  for (const Value& v : a[0].list()) {
    Value e = FeelEquals(v, a[1]);
    if (e.is_bool() && e.as_bool()) return Ret(out, Value::Bool(true));
  }
  return Ret(out, Value::Bool(false));
}

bool FnCount(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  return Ret(out, Value::Number(static_cast<int64_t>(a[0].list().size())));
}

bool MinMax(EvalContext& ctx, Args a, Value* out, bool want_max) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  if (items.empty()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(items.size()))) return false;
  const Value* best = &items[0];
  for (size_t i = 1; i < items.size(); ++i) {
    std::optional<int> c = FeelCompare(items[i], *best);
    if (!c) return RetNull(out);
    if (want_max ? *c > 0 : *c < 0) best = &items[i];
  }
  if (items.size() == 1 && !FeelCompare(*best, *best)) return RetNull(out);
  return Ret(out, *best);
}
bool FnMin(EvalContext& ctx, Args a, size_t, Value* out) { return MinMax(ctx, a, out, false); }
bool FnMax(EvalContext& ctx, Args a, size_t, Value* out) { return MinMax(ctx, a, out, true); }

bool FnSum(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  if (!ctx.Step(static_cast<int64_t>(items.size()))) return false;
  if (items.empty()) return RetNull(out);
  if (!AllNumbers(items)) return RetNull(out);
  Decimal acc;
  for (const Value& v : items) {
    auto r = acc.Add(v.as_number());
    if (!r) return RetNull(out);
    acc = *r;
  }
  return Ret(out, Value::Number(acc));
}

bool FnProduct(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  if (!ctx.Step(static_cast<int64_t>(items.size()))) return false;
  if (items.empty() || !AllNumbers(items)) return RetNull(out);
  Decimal acc = Decimal::FromInt64(1);
  for (const Value& v : items) {
    auto r = acc.Mul(v.as_number());
    if (!r) return RetNull(out);
    acc = *r;
  }
  return Ret(out, Value::Number(acc));
}

std::optional<Decimal> Mean(const std::vector<Value>& items) {
  Decimal acc;
  for (const Value& v : items) {
    auto r = acc.Add(v.as_number());
    if (!r) return std::nullopt;
    acc = *r;
  }
  return acc.Div(Decimal::FromInt64(static_cast<int64_t>(items.size())));
}

bool FnMean(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  if (!ctx.Step(static_cast<int64_t>(items.size()))) return false;
  if (items.empty() || !AllNumbers(items)) return RetNull(out);
  auto m = Mean(items);
  return Ret(out, m ? Value::Number(*m) : Value());
}

std::vector<Decimal> SortedNumbers(const std::vector<Value>& items) {
  std::vector<Decimal> v;
  v.reserve(items.size());
  for (const Value& x : items) v.push_back(x.as_number());
  std::sort(v.begin(), v.end(), [](const Decimal& x, const Decimal& y) { return x < y; });
  return v;
}

bool FnMedian(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  if (!ctx.Step(static_cast<int64_t>(items.size()) * 4)) return false;
  if (items.empty() || !AllNumbers(items)) return RetNull(out);
  std::vector<Decimal> v = SortedNumbers(items);
  size_t n = v.size();
  if (n % 2 == 1) return Ret(out, Value::Number(v[n / 2]));
  auto s = v[n / 2 - 1].Add(v[n / 2]);
  if (!s) return RetNull(out);
  auto m = s->Div(Decimal::FromInt64(2));
  return Ret(out, m ? Value::Number(*m) : Value());
}

bool FnStddev(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  if (!ctx.Step(static_cast<int64_t>(items.size()) * 2)) return false;
  if (items.size() < 2 || !AllNumbers(items)) return RetNull(out);
  auto mean = Mean(items);
  if (!mean) return RetNull(out);
  Decimal acc;
  for (const Value& v : items) {
    auto d = v.as_number().Sub(*mean);
    if (!d) return RetNull(out);
    auto sq = d->Mul(*d);
    if (!sq) return RetNull(out);
    auto s = acc.Add(*sq);
    if (!s) return RetNull(out);
    acc = *s;
  }
  auto var = acc.Div(Decimal::FromInt64(static_cast<int64_t>(items.size()) - 1));
  if (!var) return RetNull(out);
  auto sd = var->Sqrt();
  return Ret(out, sd ? Value::Number(*sd) : Value());
}

bool FnMode(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  if (!ctx.Step(static_cast<int64_t>(items.size()) * 4)) return false;
  if (items.empty()) return Ret(out, Value::List({}));
  if (!AllNumbers(items)) return RetNull(out);
  std::vector<Decimal> v = SortedNumbers(items);
  size_t best = 0;
  std::vector<Value> modes;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j] == v[i]) ++j;
    size_t run = j - i;
    if (run > best) {
      best = run;
      modes.clear();
    }
    if (run == best) modes.push_back(Value::Number(v[i]));
    i = j;
  }
  return Ret(out, Value::List(std::move(modes)));
}

bool AllAny(Args a, Value* out, bool is_all) {
  if (!a[0].is_list()) return RetNull(out);
  bool saw_other = false;
  for (const Value& v : a[0].list()) {
    if (v.is_bool()) {
      if (v.as_bool() != is_all) return Ret(out, Value::Bool(!is_all));
    } else {
      saw_other = true;
    }
  }
  return Ret(out, saw_other ? Value() : Value::Bool(is_all));
}
bool FnAll(EvalContext&, Args a, size_t, Value* out) { return AllAny(a, out, true); }
bool FnAny(EvalContext&, Args a, size_t, Value* out) { return AllAny(a, out, false); }

bool FnSublist(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  auto start = IntArg(a[1]);
  if (!start || *start == 0) return RetNull(out);
  const auto& items = a[0].list();
  int64_t len = static_cast<int64_t>(items.size());
  int64_t from = *start > 0 ? *start - 1 : len + *start;
  if (from < 0 || from >= len) return RetNull(out);
  int64_t count = len - from;
  if (n > 2) {
    auto l = IntArg(a[2]);
    if (!l || *l < 0) return RetNull(out);
    if (*l > count) return RetNull(out);
    count = *l;
  }
  if (!ctx.Step(count)) return false;
  if (!ctx.CheckList(static_cast<size_t>(count))) return false;
  return Ret(out,
             Value::List(std::vector<Value>(items.begin() + from, items.begin() + from + count)));
}

bool FnAppend(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list() || !a[1].is_list()) return RetNull(out);
  const auto& extra = a[1].list();
  if (!ctx.CheckList(a[0].list().size() + extra.size())) return false;
  if (!ctx.Step(static_cast<int64_t>(a[0].list().size() + extra.size()))) return false;
  std::vector<Value> r;
  r.reserve(a[0].list().size() + extra.size());
  r = a[0].list();
  r.insert(r.end(), extra.begin(), extra.end());
  return Ret(out, Value::List(std::move(r)));
}

bool FnConcatenate(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  size_t total = 0;
  for (const Value& l : a[0].list()) {
    if (!l.is_list()) return RetNull(out);
    total += l.list().size();
  }
  if (!ctx.Step(static_cast<int64_t>(total))) return false;
  if (!ctx.CheckList(total)) return false;
  std::vector<Value> r;
  r.reserve(total);
  for (const Value& l : a[0].list()) r.insert(r.end(), l.list().begin(), l.list().end());
  return Ret(out, Value::List(std::move(r)));
}

bool FnInsertBefore(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  auto pos = IntArg(a[1]);
  const auto& items = a[0].list();
  int64_t len = static_cast<int64_t>(items.size());
  if (!pos || *pos == 0) return RetNull(out);
  int64_t at = *pos > 0 ? *pos - 1 : len + *pos;
  if (at < 0 || at > len || (*pos > 0 && at >= len && len > 0 && at != len)) return RetNull(out);
  if (*pos > len) return RetNull(out);
  if (!ctx.Step(len)) return false;
  if (!ctx.CheckList(items.size() + 1)) return false;
  std::vector<Value> r = items;
  r.insert(r.begin() + at, a[2]);
  return Ret(out, Value::List(std::move(r)));
}

bool FnRemove(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  auto pos = IntArg(a[1]);
  const auto& items = a[0].list();
  int64_t len = static_cast<int64_t>(items.size());
  if (!pos || *pos == 0) return RetNull(out);
  int64_t at = *pos > 0 ? *pos - 1 : len + *pos;
  if (at < 0 || at >= len) return RetNull(out);
  if (!ctx.Step(len)) return false;
  if (!ctx.CheckList(items.size())) return false;
  std::vector<Value> r = items;
  r.erase(r.begin() + at);
  return Ret(out, Value::List(std::move(r)));
}

// DMN 1.5 list replace(list, position, newItem) / list replace(list, match, newItem) where
// match(item, newItem) decides which items are replaced.
bool FnListReplace(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  int64_t len = static_cast<int64_t>(items.size());
  if (!ctx.Step(len)) return false;
  if (!ctx.CheckList(items.size())) return false;
  if (a[1].is_number()) {
    auto pos = IntArg(a[1]);
    if (!pos || *pos == 0) return RetNull(out);
    int64_t at = *pos > 0 ? *pos - 1 : len + *pos;
    if (at < 0 || at >= len) return RetNull(out);
    std::vector<Value> r = items;
    r[static_cast<size_t>(at)] = a[2];
    return Ret(out, Value::List(std::move(r)));
  }
  if (!a[1].is_function()) return RetNull(out);
  std::vector<Value> r;
  r.reserve(items.size());
  for (const Value& item : items) {
    Value m;
    if (!CallFunction(ctx, a[1], {item, a[2]}, &m)) return false;
    if (!m.is_bool()) return RetNull(out);
    r.push_back(m.as_bool() ? a[2] : item);
  }
  return Ret(out, Value::List(std::move(r)));
}

bool FnReverse(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].list().size()))) return false;
  if (!ctx.CheckList(a[0].list().size())) return false;
  std::vector<Value> r(a[0].list().rbegin(), a[0].list().rend());
  return Ret(out, Value::List(std::move(r)));
}

bool FnIndexOf(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  const auto& items = a[0].list();
  if (!ctx.Step(static_cast<int64_t>(items.size()))) return false;
  std::vector<Value> r;
  for (size_t i = 0; i < items.size(); ++i) {
    Value e = FeelEquals(items[i], a[1]);
    if (e.is_bool() && e.as_bool()) {
      if (!ctx.CheckList(r.size() + 1)) return false;
      r.push_back(Value::Number(static_cast<int64_t>(i + 1)));
    }
  }
  return Ret(out, Value::List(std::move(r)));
}

bool Contains(const std::vector<Value>& items, const Value& v) {
  for (const Value& x : items) {
    Value e = FeelEquals(x, v);
    if (e.is_bool() && e.as_bool()) return true;
  }
  return false;
}

// O(n^2) equality-based helpers charge steps for the comparisons they make.
bool FnDistinctValues(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  std::vector<Value> r;
  for (const Value& v : a[0].list()) {
    if (!ctx.Step(static_cast<int64_t>(r.size()) + 1)) return false;
    if (!Contains(r, v)) {
      if (!ctx.CheckList(r.size() + 1)) return false;
      r.push_back(v);
    }
  }
  return Ret(out, Value::List(std::move(r)));
}

bool FnDuplicateValues(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  // Values occurring more than once, in order of first occurrence (feel-scala).
  std::vector<Value> distinct;
  std::vector<int> counts;
  for (const Value& v : a[0].list()) {
    if (!ctx.Step(static_cast<int64_t>(distinct.size()) + 1)) return false;
    size_t i = 0;
    for (; i < distinct.size(); ++i) {
      Value e = FeelEquals(distinct[i], v);
      if (e.is_bool() && e.as_bool()) break;
    }
    if (i == distinct.size()) {
      distinct.push_back(v);
      counts.push_back(0);
    }
    ++counts[i];
  }
  std::vector<Value> dups;
  for (size_t i = 0; i < distinct.size(); ++i) {
    if (counts[i] > 1) dups.push_back(distinct[i]);
  }
  return Ret(out, Value::List(std::move(dups)));
}

bool FnUnion(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  std::vector<Value> r;
  for (const Value& l : a[0].list()) {
    if (!l.is_list()) return RetNull(out);
    for (const Value& v : l.list()) {
      if (!ctx.Step(static_cast<int64_t>(r.size()) + 1)) return false;
      if (!Contains(r, v)) {
        if (!ctx.CheckList(r.size() + 1)) return false;
        r.push_back(v);
      }
    }
  }
  return Ret(out, Value::List(std::move(r)));
}

bool Flatten(EvalContext& ctx, const Value& v, std::vector<Value>* out, int depth) {
  if (depth > kMaxEvalDepth) {
    return ctx.Fail(absl::ResourceExhaustedError("FEEL flatten: list nested too deeply"));
  }
  if (!v.is_list()) {
    if (!ctx.CheckList(out->size() + 1)) return false;
    out->push_back(v);
    return ctx.Step();
  }
  for (const Value& x : v.list()) {
    if (!Flatten(ctx, x, out, depth + 1)) return false;
  }
  return true;
}

bool FnFlatten(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  std::vector<Value> r;
  if (!Flatten(ctx, a[0], &r, 0)) return false;
  return Ret(out, Value::List(std::move(r)));
}

bool FnSort(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  int64_t size = static_cast<int64_t>(a[0].list().size());
  if (!ctx.Step(size * 2)) return false;
  // The copy being sorted and, with a `precedes` function, the merge buffer.
  if (!ctx.CheckAllocation(size, static_cast<int64_t>(2 * a[0].list().size() * sizeof(Value)))) {
    return false;
  }
  std::vector<Value> items = a[0].list();
  if (n < 2 || a[1].is_null()) {
    // Natural order for comparable items of one kind.
    for (size_t i = 1; i < items.size(); ++i) {
      if (!FeelCompare(items[0], items[i])) return RetNull(out);
    }
    if (!items.empty() && !FeelCompare(items[0], items[0])) return RetNull(out);
    std::stable_sort(items.begin(), items.end(),
                     [](const Value& x, const Value& y) { return *FeelCompare(x, y) < 0; });
    return Ret(out, Value::List(std::move(items)));
  }
  if (!a[1].is_function()) return RetNull(out);
  // Merge sort calling the user's `precedes` function; failures stop the sort.
  bool ok = true;
  bool invalid = false;
  auto less = [&](const Value& x, const Value& y) {
    if (!ok || invalid) return false;
    Value r;
    if (!CallFunction(ctx, a[1], {x, y}, &r)) {
      ok = false;
      return false;
    }
    if (!r.is_bool()) {
      invalid = true;
      return false;
    }
    return r.as_bool();
  };
  std::vector<Value> buf(items.size());
  for (size_t width = 1; width < items.size() && ok && !invalid; width *= 2) {
    for (size_t lo = 0; lo < items.size(); lo += 2 * width) {
      size_t mid = std::min(lo + width, items.size());
      size_t hi = std::min(lo + 2 * width, items.size());
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) buf[k++] = less(items[j], items[i]) ? items[j++] : items[i++];
      while (i < mid) buf[k++] = items[i++];
      while (j < hi) buf[k++] = items[j++];
    }
    items.swap(buf);
  }
  if (!ok) return false;
  if (invalid) return RetNull(out);
  return Ret(out, Value::List(std::move(items)));
}

bool FnIsEmpty(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  return Ret(out, Value::Bool(a[0].list().empty()));
}

bool FnPartition(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  auto size = IntArg(a[1]);
  if (!size || *size <= 0) return RetNull(out);
  const auto& items = a[0].list();
  if (!ctx.Step(static_cast<int64_t>(items.size()))) return false;
  const size_t part_size = static_cast<size_t>(std::min<int64_t>(*size, INT64_MAX / 2));
  const size_t parts_count = (items.size() + part_size - 1) / part_size;
  if (!ctx.CheckList(parts_count)) return false;
  // The inner lists hold every item once more.
  if (!ctx.Charge(static_cast<int64_t>(items.size() * sizeof(Value) + parts_count * 32))) {
    return false;
  }
  std::vector<Value> parts;
  parts.reserve(parts_count);
  for (size_t i = 0; i < items.size(); i += part_size) {
    size_t end = std::min(items.size(), i + part_size);
    parts.push_back(Value::List(std::vector<Value>(items.begin() + i, items.begin() + end)));
  }
  return Ret(out, Value::List(std::move(parts)));
}

// ================= Numeric =================

bool Round(Args a, size_t n, Value* out, Decimal::Rounding mode) {
  if (!a[0].is_number()) return RetNull(out);
  int64_t scale = 0;
  if (n > 1) {
    if (!a[1].is_number()) return RetNull(out);
    auto s = a[1].as_number().TruncateToInt64();
    if (!s || *s < -6111 || *s > 6176) return RetNull(out);
    scale = *s;
  }
  auto r = a[0].as_number().RoundToScale(scale, mode);
  return Ret(out, r ? Value::Number(*r) : Value());
}

bool FnDecimal(EvalContext&, Args a, size_t n, Value* out) {
  if (n > 2) {
    if (!a[2].is_string()) return RetNull(out);
    static const std::pair<const char*, Decimal::Rounding> kModes[] = {
        {"UP", Decimal::Rounding::kUp},
        {"DOWN", Decimal::Rounding::kDown},
        {"CEILING", Decimal::Rounding::kCeiling},
        {"FLOOR", Decimal::Rounding::kFloor},
        {"HALF_UP", Decimal::Rounding::kHalfUp},
        {"HALF_DOWN", Decimal::Rounding::kHalfDown},
        {"HALF_EVEN", Decimal::Rounding::kHalfEven}};
    std::string m = MapCase(a[2].as_string(), true);
    for (const auto& [name, mode] : kModes) {
      if (m == name) return Round(a, 2, out, mode);
    }
    return RetNull(out);
  }
  return Round(a, 2, out, Decimal::Rounding::kHalfEven);
}
bool FnFloor(EvalContext&, Args a, size_t n, Value* out) {
  return Round(a, n, out, Decimal::Rounding::kFloor);
}
bool FnCeiling(EvalContext&, Args a, size_t n, Value* out) {
  return Round(a, n, out, Decimal::Rounding::kCeiling);
}
bool FnRoundUp(EvalContext&, Args a, size_t n, Value* out) {
  return Round(a, n, out, Decimal::Rounding::kUp);
}
bool FnRoundDown(EvalContext&, Args a, size_t n, Value* out) {
  return Round(a, n, out, Decimal::Rounding::kDown);
}
bool FnRoundHalfUp(EvalContext&, Args a, size_t n, Value* out) {
  return Round(a, n, out, Decimal::Rounding::kHalfUp);
}
bool FnRoundHalfDown(EvalContext&, Args a, size_t n, Value* out) {
  return Round(a, n, out, Decimal::Rounding::kHalfDown);
}

bool FnAbs(EvalContext&, Args a, size_t, Value* out) {
  if (a[0].is_number()) return Ret(out, Value::Number(a[0].as_number().Abs()));
  if (a[0].is_days_time_duration()) {
    __int128 t = TotalNanos(a[0].as_days_time_duration());
    auto d = DurationFromNanos(t < 0 ? -t : t);
    return Ret(out, d ? Value::DaysTimeDuration(*d) : Value());
  }
  if (a[0].is_years_months_duration()) {
    int64_t m = a[0].as_years_months_duration().months;
    return Ret(out, Value::YearsMonthsDuration({m < 0 ? -m : m}));
  }
  return RetNull(out);
}

bool FnModulo(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_number() || !a[1].is_number()) return RetNull(out);
  auto r = a[0].as_number().Modulo(a[1].as_number());
  return Ret(out, r ? Value::Number(*r) : Value());
}

bool FnSqrt(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_number()) return RetNull(out);
  auto r = a[0].as_number().Sqrt();
  return Ret(out, r ? Value::Number(*r) : Value());
}

bool FnLog(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_number()) return RetNull(out);
  auto r = a[0].as_number().Ln();
  return Ret(out, r ? Value::Number(*r) : Value());
}

bool FnExp(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_number()) return RetNull(out);
  auto r = a[0].as_number().Exp();
  return Ret(out, r ? Value::Number(*r) : Value());
}

bool OddEven(Args a, Value* out, bool odd) {
  if (!a[0].is_number() || !a[0].as_number().IsIntegral()) return RetNull(out);
  auto m = a[0].as_number().Modulo(Decimal::FromInt64(2));
  if (!m) return RetNull(out);
  return Ret(out, Value::Bool(m->IsZero() != odd));
}
bool FnOdd(EvalContext&, Args a, size_t, Value* out) { return OddEven(a, out, true); }
bool FnEven(EvalContext&, Args a, size_t, Value* out) { return OddEven(a, out, false); }

bool FnRandomNumber(EvalContext& ctx, Args, size_t, Value* out) {
  // [0, 1) with 16 decimal digits, deterministic from the evaluation's seed.
  uint64_t r = ctx.NextRandom() % 10'000'000'000'000'000ULL;
  auto d = Decimal::FromUint64(r).Div(Decimal::FromUint64(10'000'000'000'000'000ULL));
  return Ret(out, d ? Value::Number(*d) : Value());
}

// ================= Context =================

bool FnGetValue(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_context()) return RetNull(out);
  if (a[1].is_string()) {
    const Value* v = a[0].Find(a[1].as_string());
    return Ret(out, v ? *v : Value());
  }
  if (a[1].is_list()) {
    if (a[1].list().empty()) return RetNull(out);
    const Value* cur = &a[0];
    for (const Value& k : a[1].list()) {
      if (!k.is_string() || !cur->is_context()) return RetNull(out);
      cur = cur->Find(k.as_string());
      if (cur == nullptr) return RetNull(out);
    }
    return Ret(out, *cur);
  }
  return RetNull(out);
}

bool FnGetEntries(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_context()) return RetNull(out);
  const auto& entries = a[0].context().entries();
  if (!ctx.Step(static_cast<int64_t>(entries.size()))) return false;
  if (!ctx.CheckList(entries.size())) return false;
  // A {key, value} context and a key string per entry.
  size_t nested = 0;
  for (const auto& entry : entries) nested += entry.first.size() + 2 * (sizeof(Value) + 32) + 64;
  if (!ctx.Charge(static_cast<int64_t>(nested))) return false;
  std::vector<Value> r;
  r.reserve(entries.size());
  for (const auto& [k, v] : entries) {
    r.push_back(Value::Context({{"key", Value::String(k)}, {"value", v}}));
  }
  return Ret(out, Value::List(std::move(r)));
}

Value PutPath(const Value& ctxv, const std::vector<Value>& keys, size_t i, const Value& value,
              bool* ok) {
  ContextValue c = ctxv.is_context() ? ctxv.context() : ContextValue();
  if (!keys[i].is_string()) {
    *ok = false;
    return Value();
  }
  const std::string& k = keys[i].as_string();
  if (i + 1 == keys.size()) {
    c.Set(k, value);
  } else {
    const Value* inner = c.Find(k);
    if (inner != nullptr && !inner->is_context()) {
      *ok = false;  // cannot descend into a non-context
      return Value();
    }
    Value nested = PutPath(inner ? *inner : Value::Context(ContextValue()), keys, i + 1, value, ok);
    c.Set(k, std::move(nested));
  }
  return Value::Context(std::move(c));
}

bool FnContextPut(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_context()) return RetNull(out);
  if (!ctx.Step(static_cast<int64_t>(a[0].context().size()))) return false;
  if (!ctx.CheckContext(a[0].context().size() + 1)) return false;
  if (a[1].is_string()) {
    ContextValue c = a[0].context();
    c.Set(a[1].as_string(), a[2]);
    return Ret(out, Value::Context(std::move(c)));
  }
  if (a[1].is_list() && !a[1].list().empty()) {
    if (a[1].list().size() > 64) return RetNull(out);
    // Each level of the path copies the context at that level.
    size_t copied = 0;
    const Value* level = &a[0];
    for (const Value& key : a[1].list()) {
      if (level == nullptr || !level->is_context()) break;
      copied += level->context().size() + 1;
      level = key.is_string() ? level->Find(key.as_string()) : nullptr;
    }
    if (!ctx.Step(static_cast<int64_t>(copied))) return false;
    if (!ctx.Charge(static_cast<int64_t>(copied * (sizeof(Value) + 32)))) return false;
    bool ok = true;
    Value r = PutPath(a[0], a[1].list(), 0, a[2], &ok);
    return Ret(out, ok ? r : Value());
  }
  return RetNull(out);
}

bool FnContextPutKey(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (!a[1].is_string()) return RetNull(out);  // `key:` names a single key
  return FnContextPut(ctx, a, n, out);
}

bool FnContextMerge(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_list()) return RetNull(out);
  size_t total = 0;
  for (const Value& v : a[0].list()) {
    if (!v.is_context()) return RetNull(out);
    total += v.context().size();
  }
  if (!ctx.Step(static_cast<int64_t>(total))) return false;
  if (!ctx.CheckContext(total)) return false;
  ContextValue c;
  for (const Value& v : a[0].list()) {
    for (const auto& [k, x] : v.context().entries()) c.Set(k, x);
  }
  return Ret(out, Value::Context(std::move(c)));
}

bool FnContext(EvalContext& ctx, Args a, size_t n, Value* out) {
  if (a[0].is_context()) {
    Value list = Value::List({a[0]});
    return FnContext(ctx, &list, n, out);
  }
  if (!a[0].is_list()) return RetNull(out);
  ContextValue c;
  if (!ctx.Step(static_cast<int64_t>(a[0].list().size()))) return false;
  if (!ctx.CheckContext(a[0].list().size())) return false;
  for (const Value& e : a[0].list()) {
    if (!e.is_context()) return RetNull(out);
    const Value* k = e.Find("key");
    const Value* v = e.Find("value");
    if (k == nullptr || !k->is_string() || v == nullptr) return RetNull(out);
    if (c.Find(k->as_string()) != nullptr) return RetNull(out);  // duplicate keys: null (DMN)
    c.Set(k->as_string(), *v);
  }
  return Ret(out, Value::Context(std::move(c)));
}

// ================= Temporal =================

DateTime NowDateTime(EvalContext& ctx) {
  int64_t ms = ctx.options->now_epoch_millis;
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int32_t nanos = static_cast<int32_t>((ms - secs * 1000) * 1'000'000);
  const std::string& zone = ctx.options->time_zone;
  if (zone.empty() || zone == "UTC" || zone == "Z") {
    return DateTimeFromEpoch(secs, nanos, ZoneKind::kOffset, 0, "");
  }
  return DateTimeFromEpoch(secs, nanos, ZoneKind::kZoneId, 0, zone);
}

bool FnNow(EvalContext& ctx, Args, size_t, Value* out) {
  return Ret(out, Value::DateTime(NowDateTime(ctx)));
}

bool FnToday(EvalContext& ctx, Args, size_t, Value* out) {
  return Ret(out, Value::Date(Date{NowDateTime(ctx).days}));
}

std::optional<int64_t> DaysOf(const Value& v) {
  if (v.is_date()) return v.as_date().days;
  if (v.is_date_time()) return v.as_date_time().days;
  return std::nullopt;
}

bool FnDayOfYear(EvalContext&, Args a, size_t, Value* out) {
  auto d = DaysOf(a[0]);
  if (!d) return RetNull(out);
  int64_t y;
  int m, day;
  CivilFromDays(*d, &y, &m, &day);
  return Ret(out, Value::Number(*d - DaysFromCivil(y, 1, 1) + 1));
}

bool FnDayOfWeek(EvalContext&, Args a, size_t, Value* out) {
  static const char* const kDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                      "Friday", "Saturday", "Sunday"};
  auto d = DaysOf(a[0]);
  if (!d) return RetNull(out);
  return Ret(out, Value::String(kDays[IsoWeekday(*d) - 1]));
}

bool FnMonthOfYear(EvalContext&, Args a, size_t, Value* out) {
  static const char* const kMonths[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
  auto d = DaysOf(a[0]);
  if (!d) return RetNull(out);
  int64_t y;
  int m, day;
  CivilFromDays(*d, &y, &m, &day);
  return Ret(out, Value::String(kMonths[m - 1]));
}

bool FnWeekOfYear(EvalContext&, Args a, size_t, Value* out) {
  auto d = DaysOf(a[0]);
  if (!d) return RetNull(out);
  // ISO 8601 week number: the week containing the year's first Thursday is week 1.
  int64_t thursday = *d - IsoWeekday(*d) + 4;
  int64_t y;
  int m, day;
  CivilFromDays(thursday, &y, &m, &day);
  int64_t week = (thursday - DaysFromCivil(y, 1, 1)) / 7 + 1;
  return Ret(out, Value::Number(week));
}

bool FnLastDayOfMonth(EvalContext&, Args a, size_t, Value* out) {
  auto d = DaysOf(a[0]);
  if (!d) return RetNull(out);
  int64_t y;
  int m, day;
  CivilFromDays(*d, &y, &m, &day);
  return Ret(out, Value::Date(Date{DaysFromCivil(y, m, DaysInMonth(y, m))}));
}

// ================= Ranges (DMN 1.5 §10.3.4.9) =================

struct Bound {
  Value value;  // null: unbounded
  bool closed = false;
};
struct Interval {
  Bound start, end;
};

bool ToInterval(const Value& v, Interval* out) {
  if (v.is_range()) {
    const RangeValue& r = v.range();
    out->start = {r.start, r.start_included};
    out->end = {r.end, r.end_included};
    return true;
  }
  if (v.is_null()) return false;
  out->start = {v, true};
  out->end = {v, true};
  return true;
}

// Comparison of bound values; nullopt if incomparable. Unbounded handled by callers.
std::optional<int> C(const Value& x, const Value& y) { return FeelCompare(x, y); }

// Evaluates a range relation: returns null when the arguments cannot be compared.
bool RangeFn(
    Args a, Value* out,
    const std::function<std::optional<bool>(const Interval&, const Interval&, bool, bool)>& f) {
  Interval x, y;
  if (!ToInterval(a[0], &x) || !ToInterval(a[1], &y)) return RetNull(out);
  std::optional<bool> r = f(x, y, !a[0].is_range(), !a[1].is_range());
  return Ret(out, r ? Value::Bool(*r) : Value());
}

// Helpers treating null bounds as infinities.
std::optional<bool> Lt(const Value& x, const Value& y) {
  auto c = C(x, y);
  if (!c) return std::nullopt;
  return *c < 0;
}
std::optional<bool> Eq(const Value& x, const Value& y) {
  auto c = C(x, y);
  if (!c) return std::nullopt;
  return *c == 0;
}

// a.end before b.start
std::optional<bool> EndBeforeStart(const Bound& end, const Bound& start) {
  if (end.value.is_null() || start.value.is_null()) return false;
  auto lt = Lt(end.value, start.value);
  auto eq = Eq(end.value, start.value);
  if (!lt || !eq) return std::nullopt;
  return *lt || (*eq && (!end.closed || !start.closed));
}

bool FnBefore(EvalContext&, Args a, size_t, Value* out) {
  return RangeFn(a, out, [](const Interval& x, const Interval& y, bool, bool) {
    return EndBeforeStart(x.end, y.start);
  });
}
bool FnAfter(EvalContext&, Args a, size_t, Value* out) {
  return RangeFn(a, out, [](const Interval& x, const Interval& y, bool, bool) {
    return EndBeforeStart(y.end, x.start);
  });
}
std::optional<bool> MeetsImpl(const Interval& x, const Interval& y) {
  if (x.end.value.is_null() || y.start.value.is_null()) return false;
  auto eq = Eq(x.end.value, y.start.value);
  if (!eq) return std::nullopt;
  return x.end.closed && y.start.closed && *eq;
}
bool FnMeets(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_range() || !a[1].is_range()) return RetNull(out);
  return RangeFn(a, out,
                 [](const Interval& x, const Interval& y, bool, bool) { return MeetsImpl(x, y); });
}
bool FnMetBy(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_range() || !a[1].is_range()) return RetNull(out);
  return RangeFn(a, out,
                 [](const Interval& x, const Interval& y, bool, bool) { return MeetsImpl(y, x); });
}

// Start-vs-start ordering: -1 if x starts before y, 0 same, 1 after.
std::optional<int> CompareStarts(const Bound& x, const Bound& y) {
  if (x.value.is_null() && y.value.is_null()) return 0;
  if (x.value.is_null()) return -1;
  if (y.value.is_null()) return 1;
  auto c = C(x.value, y.value);
  if (!c) return std::nullopt;
  if (*c != 0) return *c;
  if (x.closed == y.closed) return 0;
  return x.closed ? -1 : 1;
}
std::optional<int> CompareEnds(const Bound& x, const Bound& y) {
  if (x.value.is_null() && y.value.is_null()) return 0;
  if (x.value.is_null()) return 1;
  if (y.value.is_null()) return -1;
  auto c = C(x.value, y.value);
  if (!c) return std::nullopt;
  if (*c != 0) return *c;
  if (x.closed == y.closed) return 0;
  return x.closed ? 1 : -1;
}

std::optional<bool> OverlapsImpl(const Interval& x, const Interval& y) {
  auto a = EndBeforeStart(x.end, y.start);
  auto b = EndBeforeStart(y.end, x.start);
  if (!a || !b) return std::nullopt;
  return !*a && !*b;
}

bool FnOverlaps(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_range() || !a[1].is_range()) return RetNull(out);
  return RangeFn(
      a, out, [](const Interval& x, const Interval& y, bool, bool) { return OverlapsImpl(x, y); });
}
bool FnOverlapsBefore(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_range() || !a[1].is_range()) return RetNull(out);
  return RangeFn(a, out,
                 [](const Interval& x, const Interval& y, bool, bool) -> std::optional<bool> {
                   // DMN 1.5 table 78: starts strictly earlier, ends no later.
                   auto s = CompareStarts(x.start, y.start);
                   auto e = CompareEnds(x.end, y.end);
                   auto o = OverlapsImpl(x, y);
                   if (!s || !e || !o) return std::nullopt;
                   return *s < 0 && *e <= 0 && *o;
                 });
}
bool FnOverlapsAfter(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_range() || !a[1].is_range()) return RetNull(out);
  return RangeFn(a, out,
                 [](const Interval& x, const Interval& y, bool, bool) -> std::optional<bool> {
                   // overlaps before with the ranges swapped.
                   auto s = CompareStarts(y.start, x.start);
                   auto e = CompareEnds(y.end, x.end);
                   auto o = OverlapsImpl(x, y);
                   if (!s || !e || !o) return std::nullopt;
                   return *s < 0 && *e <= 0 && *o;
                 });
}
bool FnFinishes(EvalContext&, Args a, size_t, Value* out) {
  if (!a[1].is_range()) return RetNull(out);
  return RangeFn(
      a, out, [](const Interval& x, const Interval& y, bool x_point, bool) -> std::optional<bool> {
        if (x_point) {
          if (y.end.value.is_null()) return false;
          auto eq = Eq(x.start.value, y.end.value);
          if (!eq) return std::nullopt;
          return y.end.closed && *eq;
        }
        auto e = CompareEnds(x.end, y.end);
        auto s = CompareStarts(x.start, y.start);
        if (!e || !s) return std::nullopt;
        return *e == 0 && *s >= 0;
      });
}
bool FnFinishedBy(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_range()) return RetNull(out);
  return RangeFn(
      a, out, [](const Interval& x, const Interval& y, bool, bool y_point) -> std::optional<bool> {
        if (y_point) {
          if (x.end.value.is_null()) return false;
          auto eq = Eq(y.start.value, x.end.value);
          if (!eq) return std::nullopt;
          return x.end.closed && *eq;
        }
        auto e = CompareEnds(x.end, y.end);
        auto s = CompareStarts(y.start, x.start);
        if (!e || !s) return std::nullopt;
        return *e == 0 && *s >= 0;
      });
}
std::optional<bool> IncludesImpl(const Interval& outer, const Interval& inner) {
  auto s = CompareStarts(outer.start, inner.start);
  auto e = CompareEnds(outer.end, inner.end);
  if (!s || !e) return std::nullopt;
  return *s <= 0 && *e >= 0;
}
bool FnIncludes(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_range()) return RetNull(out);
  return RangeFn(
      a, out, [](const Interval& x, const Interval& y, bool, bool) { return IncludesImpl(x, y); });
}
bool FnDuring(EvalContext&, Args a, size_t, Value* out) {
  if (!a[1].is_range()) return RetNull(out);
  return RangeFn(
      a, out, [](const Interval& x, const Interval& y, bool, bool) { return IncludesImpl(y, x); });
}
bool FnStarts(EvalContext&, Args a, size_t, Value* out) {
  if (!a[1].is_range()) return RetNull(out);
  return RangeFn(
      a, out, [](const Interval& x, const Interval& y, bool x_point, bool) -> std::optional<bool> {
        if (x_point) {
          if (y.start.value.is_null()) return false;
          auto eq = Eq(x.start.value, y.start.value);
          if (!eq) return std::nullopt;
          return y.start.closed && *eq;
        }
        auto s = CompareStarts(x.start, y.start);
        auto e = CompareEnds(x.end, y.end);
        if (!s || !e) return std::nullopt;
        return *s == 0 && *e <= 0;
      });
}
bool FnStartedBy(EvalContext&, Args a, size_t, Value* out) {
  if (!a[0].is_range()) return RetNull(out);
  return RangeFn(
      a, out, [](const Interval& x, const Interval& y, bool, bool y_point) -> std::optional<bool> {
        if (y_point) {
          if (x.start.value.is_null()) return false;
          auto eq = Eq(y.start.value, x.start.value);
          if (!eq) return std::nullopt;
          return x.start.closed && *eq;
        }
        auto s = CompareStarts(x.start, y.start);
        auto e = CompareEnds(y.end, x.end);
        if (!s || !e) return std::nullopt;
        return *s == 0 && *e <= 0;
      });
}
bool FnCoincides(EvalContext&, Args a, size_t, Value* out) {
  if (a[0].is_range() != a[1].is_range()) return RetNull(out);
  return RangeFn(a, out,
                 [](const Interval& x, const Interval& y, bool, bool) -> std::optional<bool> {
                   auto s = CompareStarts(x.start, y.start);
                   auto e = CompareEnds(x.end, y.end);
                   if (!s || !e) return std::nullopt;
                   return *s == 0 && *e == 0;
                 });
}

// range("[1..10)") — DMN 1.5 string to range: endpoints must be literals (numbers, strings,
// temporal literals or date/time/duration calls on a string literal), of one kind, ascending.
bool FnRange(EvalContext& ctx, Args a, size_t, Value* out) {
  if (!a[0].is_string()) return RetNull(out);
  const std::string& s = a[0].as_string();
  if (s.size() > 1024) return RetNull(out);
  static const LazyRE2 kRange = {R"(\s*([\[\(\]])\s*(.*?)\s*\.\.\s*(.*?)\s*([\]\)\[])\s*)"};
  static const LazyRE2 kEndpoint = {
      R"(|null|-?\d+(\.\d+)?|-?\.\d+|"([^"\\]|\\.)*"|@"[^"]*"|(date|time|date and time|duration)\(\s*"[^"]*"\s*\))"};
  std::string open, start, end, close;
  if (!RE2::FullMatch(s, *kRange, &open, &start, &end, &close)) return RetNull(out);
  if (!RE2::FullMatch(start, *kEndpoint) || !RE2::FullMatch(end, *kEndpoint)) {
    return RetNull(out);
  }
  if (start.empty() || end.empty()) return RetNull(out);
  std::string text =
      absl::StrCat(open, start.empty() ? "null" : start, "..", end.empty() ? "null" : end, close);
  absl::StatusOr<std::shared_ptr<const CompiledExpression>> e = CompiledExpression::Compile(text);
  if (!e.ok()) return RetNull(out);
  EvalOptions opts = *ctx.options;
  opts.max_steps = 1000;
  MapVariableResolver none;
  absl::StatusOr<Value> v = Evaluate(**e, none, opts);
  if (!ctx.Step(100)) return false;
  if (!v.ok() || !v->is_range()) return RetNull(out);
  const RangeValue& r = v->range();
  if (r.start.is_null() && r.end.is_null()) return RetNull(out);
  if (!r.start.is_null() && !r.end.is_null()) {
    std::optional<int> c = FeelCompare(r.start, r.end);
    if (!c || *c > 0) return RetNull(out);
  }
  return Ret(out, *v);
}

// ================= Registry =================

struct Def {
  const char* name;
  std::vector<std::string> params;
  BuiltinFn fn;
  bool variadic = false;
};

std::vector<Builtin>* BuildRegistry() {
  std::vector<Def> defs = {
      // conversion
      {"string", {"from"}, FnString},
      {"number", {"from"}, FnNumber1},
      {"number", {"from", "grouping separator", "decimal separator"}, FnNumber3},
      {"number", {"from", "grouping separator"}, FnNumber3},
      {"date", {"from"}, FnDate1},
      {"date", {"year", "month", "day"}, FnDate3},
      {"date and time", {"from"}, FnDateTime1},
      {"date and time", {"date", "time"}, FnDateTime2},
      {"time", {"from"}, FnTime1},
      {"time", {"hour", "minute", "second"}, FnTime34},
      {"time", {"hour", "minute", "second", "offset"}, FnTime34},
      {"duration", {"from"}, FnDuration},
      {"years and months duration", {"from", "to"}, FnYearsMonthsDuration},
      {"from json", {"json"}, FnFromJson},
      {"to json", {"value"}, FnToJson},
      // boolean
      {"not", {"negand"}, FnNot},
      {"is defined", {"value"}, FnIsDefined},
      {"get or else", {"value", "default"}, FnGetOrElse},
      {"assert", {"value", "condition"}, FnAssert},
      {"assert", {"value", "condition", "cause"}, FnAssert},
      {"is", {"value1", "value2"}, FnIs},
      // string
      {"substring", {"string", "start position"}, FnSubstring},
      {"substring", {"string", "start position", "length"}, FnSubstring},
      {"string length", {"string"}, FnStringLength},
      {"upper case", {"string"}, FnUpperCase},
      {"lower case", {"string"}, FnLowerCase},
      {"substring before", {"string", "match"}, FnSubstringBefore},
      {"substring after", {"string", "match"}, FnSubstringAfter},
      {"replace", {"input", "pattern", "replacement"}, FnReplace},
      {"replace", {"input", "pattern", "replacement", "flags"}, FnReplace},
      {"contains", {"string", "match"}, FnContains},
      {"starts with", {"string", "match"}, FnStartsWith},
      {"ends with", {"string", "match"}, FnEndsWith},
      {"matches", {"input", "pattern"}, FnMatches},
      {"matches", {"input", "pattern", "flags"}, FnMatches},
      {"split", {"string", "delimiter"}, FnSplit},
      {"extract", {"input", "pattern"}, FnExtract},
      {"trim", {"string"}, FnTrim},
      {"uuid", {}, FnUuid},
      {"to base64", {"value"}, FnToBase64},
      {"from base64", {"value"}, FnFromBase64},
      {"is blank", {"string"}, FnIsBlank},
      {"string join", {"list"}, FnStringJoin},
      {"string join", {"list", "delimiter"}, FnStringJoin},
      {"string join", {"list", "delimiter", "prefix", "suffix"}, FnStringJoin},
      // list
      {"list contains", {"list", "element"}, FnListContains},
      {"count", {"list"}, FnCount},
      {"min", {"list"}, FnMin, true},
      {"max", {"list"}, FnMax, true},
      {"sum", {"list"}, FnSum, true},
      {"product", {"list"}, FnProduct, true},
      {"mean", {"list"}, FnMean, true},
      {"median", {"list"}, FnMedian, true},
      {"stddev", {"list"}, FnStddev, true},
      {"mode", {"list"}, FnMode, true},
      {"and", {"list"}, FnAll, true},
      {"all", {"list"}, FnAll, true},
      {"or", {"list"}, FnAny, true},
      {"any", {"list"}, FnAny, true},
      {"sublist", {"list", "start position"}, FnSublist},
      {"sublist", {"list", "start position", "length"}, FnSublist},
      {"append", {"list", "items"}, FnAppend, true},
      {"concatenate", {"lists"}, FnConcatenate, true},
      {"insert before", {"list", "position", "newItem"}, FnInsertBefore},
      {"remove", {"list", "position"}, FnRemove},
      {"reverse", {"list"}, FnReverse},
      {"list replace", {"list", "position", "newItem"}, FnListReplace},
      {"list replace", {"list", "match", "newItem"}, FnListReplace},
      {"index of", {"list", "match"}, FnIndexOf},
      {"union", {"lists"}, FnUnion, true},
      {"distinct values", {"list"}, FnDistinctValues},
      {"duplicate values", {"list"}, FnDuplicateValues},
      {"flatten", {"list"}, FnFlatten},
      {"sort", {"list"}, FnSort},
      {"sort", {"list", "precedes"}, FnSort},
      {"is empty", {"list"}, FnIsEmpty},
      {"partition", {"list", "size"}, FnPartition},
      // numeric
      {"decimal", {"n", "scale"}, FnDecimal},
      {"decimal", {"n", "scale", "mode"}, FnDecimal},
      {"floor", {"n"}, FnFloor},
      {"floor", {"n", "scale"}, FnFloor},
      {"ceiling", {"n"}, FnCeiling},
      {"ceiling", {"n", "scale"}, FnCeiling},
      {"round up", {"n", "scale"}, FnRoundUp},
      {"round down", {"n", "scale"}, FnRoundDown},
      {"round half up", {"n", "scale"}, FnRoundHalfUp},
      {"round half down", {"n", "scale"}, FnRoundHalfDown},
      {"abs", {"n"}, FnAbs},
      {"abs", {"number"}, FnAbs},
      {"modulo", {"dividend", "divisor"}, FnModulo},
      {"sqrt", {"number"}, FnSqrt},
      {"log", {"number"}, FnLog},
      {"exp", {"number"}, FnExp},
      {"odd", {"number"}, FnOdd},
      {"even", {"number"}, FnEven},
      {"random number", {}, FnRandomNumber},
      // context
      {"get value", {"context", "key"}, FnGetValue},
      {"get value", {"context", "keys"}, FnGetValue},
      {"get value", {"m", "key"}, FnGetValue},
      {"get entries", {"context"}, FnGetEntries},
      {"get entries", {"m"}, FnGetEntries},
      {"context put", {"context", "keys", "value"}, FnContextPut},
      {"context put", {"context", "key", "value"}, FnContextPutKey},
      {"put", {"context", "key", "value"}, FnContextPut},
      {"context merge", {"contexts"}, FnContextMerge, true},
      {"put all", {"contexts"}, FnContextMerge, true},
      {"context", {"entries"}, FnContext},
      // temporal
      {"now", {}, FnNow},
      {"today", {}, FnToday},
      {"day of year", {"date"}, FnDayOfYear},
      {"day of week", {"date"}, FnDayOfWeek},
      {"month of year", {"date"}, FnMonthOfYear},
      {"week of year", {"date"}, FnWeekOfYear},
      {"last day of month", {"date"}, FnLastDayOfMonth},
      // ranges
      {"before", {"point1", "point2"}, FnBefore},
      {"before", {"point", "range"}, FnBefore},
      {"before", {"range", "point"}, FnBefore},
      {"before", {"range1", "range2"}, FnBefore},
      {"after", {"point1", "point2"}, FnAfter},
      {"after", {"point", "range"}, FnAfter},
      {"after", {"range", "point"}, FnAfter},
      {"after", {"range1", "range2"}, FnAfter},
      {"meets", {"range1", "range2"}, FnMeets},
      {"met by", {"range1", "range2"}, FnMetBy},
      {"overlaps", {"range1", "range2"}, FnOverlaps},
      {"overlaps before", {"range1", "range2"}, FnOverlapsBefore},
      {"overlaps after", {"range1", "range2"}, FnOverlapsAfter},
      {"finishes", {"point", "range"}, FnFinishes},
      {"finishes", {"range1", "range2"}, FnFinishes},
      {"finished by", {"range", "point"}, FnFinishedBy},
      {"finished by", {"range1", "range2"}, FnFinishedBy},
      {"includes", {"range", "point"}, FnIncludes},
      {"includes", {"range1", "range2"}, FnIncludes},
      {"during", {"point", "range"}, FnDuring},
      {"during", {"range1", "range2"}, FnDuring},
      {"starts", {"point", "range"}, FnStarts},
      {"starts", {"range1", "range2"}, FnStarts},
      {"started by", {"range", "point"}, FnStartedBy},
      {"started by", {"range1", "range2"}, FnStartedBy},
      {"coincides", {"point1", "point2"}, FnCoincides},
      {"coincides", {"range1", "range2"}, FnCoincides},
      {"range", {"from"}, FnRange},
  };
  auto* registry = new std::vector<Builtin>();
  for (auto& d : defs) {
    auto it = std::find_if(registry->begin(), registry->end(),
                           [&](const Builtin& b) { return b.name == d.name; });
    if (it == registry->end()) {
      registry->push_back(Builtin{d.name, {}});
      it = registry->end() - 1;
    }
    it->overloads.push_back(BuiltinOverload{std::move(d.params), d.variadic, d.fn});
  }
  return registry;
}

const absl::flat_hash_map<std::string_view, const Builtin*>& Registry() {
  static const auto* index = [] {
    static const std::vector<Builtin>* all = BuildRegistry();
    auto* m = new absl::flat_hash_map<std::string_view, const Builtin*>();
    for (const Builtin& b : *all) m->emplace(b.name, &b);
    return m;
  }();
  return *index;
}

}  // namespace

const Builtin* FindBuiltin(std::string_view name) {
  const auto& r = Registry();
  auto it = r.find(name);
  return it == r.end() ? nullptr : it->second;
}

const std::vector<std::vector<std::string>>& KeywordBuiltinNames() {
  static const auto* names = new std::vector<std::vector<std::string>>{
      {"years", "and", "months", "duration"},
      {"date", "and", "time"},
      {"get", "or", "else"},
      {"and"},
      {"or"},
  };
  return *names;
}

}  // namespace tern::feel::internal

namespace tern::feel {

std::vector<std::string> BuiltinFunctionNames() {
  std::vector<std::string> names;
  for (const auto& [name, b] : internal::Registry()) names.emplace_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace tern::feel
