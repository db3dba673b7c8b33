#include "feel/parser.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "feel/nodes.h"

namespace tern::feel::internal {
namespace {

enum class Tok : uint8_t { kEnd, kNumber, kString, kName, kTemporal, kPunct, kError };

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;  // raw text (for kPunct the operator, for kName the word)
  std::string value;      // decoded string / backtick name / error message
  size_t pos = 0;         // byte offset of the token start
  size_t end = 0;         // byte offset just after the token
  bool backtick = false;  // a `quoted name`
};

bool IsNameStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}
bool IsNamePart(unsigned char c) { return IsNameStart(c) || (c >= '0' && c <= '9') || c == '\''; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(std::string* out, uint32_t cp) {
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

// Words that end a multi-word name (they are operators or structure keywords).
bool IsStopWord(std::string_view w) {
  static const absl::flat_hash_set<std::string_view> kWords = {
      "and", "or",  "in",   "return", "then",     "else", "satisfies", "between", "instance",
      "if",  "for", "some", "every",  "function", "true", "false",     "null",    "not"};
  return kWords.contains(w);
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  // The token starting at the first non-blank character at or after `pos`.
  Token Lex(size_t pos) const {
    Token t;
    if (!SkipBlanks(&pos, &t)) return t;
    t.pos = pos;
    if (pos >= src_.size()) {
      t.kind = Tok::kEnd;
      t.end = pos;
      return t;
    }
    const char c = src_[pos];
    if (IsDigit(c) || (c == '.' && pos + 1 < src_.size() && IsDigit(src_[pos + 1]))) {
      size_t i = pos;
      while (i < src_.size() && IsDigit(src_[i])) ++i;
      if (i + 1 < src_.size() && src_[i] == '.' && IsDigit(src_[i + 1])) {
        ++i;
        while (i < src_.size() && IsDigit(src_[i])) ++i;
      }
      // Exponent (DMN 1.5 errata / TCK): 1.23e4, 1.23E+4, 1.23e-4.
      if (i < src_.size() && (src_[i] == 'e' || src_[i] == 'E')) {
        size_t j = i + 1;
        if (j < src_.size() && (src_[j] == '+' || src_[j] == '-')) ++j;
        if (j < src_.size() && IsDigit(src_[j])) {
          while (j < src_.size() && IsDigit(src_[j])) ++j;
          if (j >= src_.size() || !IsNamePart(static_cast<unsigned char>(src_[j]))) i = j;
        }
      }
      t.kind = Tok::kNumber;
      t.text = src_.substr(pos, i - pos);
      t.end = i;
      return t;
    }
    if (c == '"') return LexString(pos, Tok::kString);
    if (c == '@' && pos + 1 < src_.size()) {
      size_t q = pos + 1;
      Token blank;
      if (SkipBlanks(&q, &blank) && q < src_.size() && src_[q] == '"') {
        Token s = LexString(q, Tok::kTemporal);
        s.pos = pos;
        return s;
      }
    }
    if (c == '`') {
      size_t close = src_.find('`', pos + 1);
      if (close == std::string_view::npos || close == pos + 1) {
        return Error(pos, "unterminated `name`");
      }
      t.kind = Tok::kName;
      t.backtick = true;
      t.value = std::string(src_.substr(pos + 1, close - pos - 1));
      t.text = src_.substr(pos, close + 1 - pos);
      t.end = close + 1;
      return t;
    }
    if (IsNameStart(static_cast<unsigned char>(c))) {
      size_t i = pos;
      while (i < src_.size() && IsNamePart(static_cast<unsigned char>(src_[i]))) ++i;
      t.kind = Tok::kName;
      t.text = src_.substr(pos, i - pos);
      t.value = std::string(t.text);
      t.end = i;
      return t;
    }
    static const char* const kPuncts[] = {"..", "**", "!=", "<=", ">=", "(", ")", "[",
                                          "]",  "{",  "}",  ",",  ".",  ":", "+", "-",
                                          "*",  "/",  "=",  "<",  ">",  "?"};
    for (const char* p : kPuncts) {
      size_t n = std::strlen(p);
      if (src_.substr(pos, n) == p) {
        t.kind = Tok::kPunct;
        t.text = src_.substr(pos, n);
        t.end = pos + n;
        return t;
      }
    }
    return Error(pos, absl::StrCat("unexpected character '", std::string(1, c), "'"));
  }

  std::string_view src() const { return src_; }

 private:
  Token Error(size_t pos, std::string msg) const {
    Token t;
    t.kind = Tok::kError;
    t.pos = pos;
    t.end = pos;
    t.value = std::move(msg);
    return t;
  }

  // Skips whitespace and comments. False (with *err set) on an unterminated comment.
  bool SkipBlanks(size_t* pos, Token* err) const {
    size_t i = *pos;
    while (i < src_.size()) {
      unsigned char c = static_cast<unsigned char>(src_[i]);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++i;
      } else if (c == 0xC2 && i + 1 < src_.size() &&
                 static_cast<unsigned char>(src_[i + 1]) == 0xA0) {
        i += 2;  // no-break space
      } else if (c == '/' && i + 1 < src_.size() && src_[i + 1] == '/') {
        while (i < src_.size() && src_[i] != '\n') ++i;
      } else if (c == '/' && i + 1 < src_.size() && src_[i + 1] == '*') {
        size_t close = src_.find("*/", i + 2);
        if (close == std::string_view::npos) {
          *err = Error(i, "unterminated comment");
          return false;
        }
        i = close + 2;
      } else {
        break;
      }
    }
    *pos = i;
    return true;
  }

  Token LexString(size_t pos, Tok kind) const {
    Token t;
    t.kind = kind;
    t.pos = pos;
    std::string& out = t.value;
    size_t i = pos + 1;
    while (true) {
      if (i >= src_.size()) return Error(pos, "unterminated string");
      char c = src_[i];
      if (c == '"') break;
      if (c != '\\') {
        // Copy a run of plain characters at once (long literals stay linear).
        size_t j = i;
        while (j < src_.size() && src_[j] != '"' && src_[j] != '\\') ++j;
        out.append(src_.substr(i, j - i));
        i = j;
        continue;
      }
      if (i + 1 >= src_.size()) return Error(pos, "unterminated string");
      char e = src_[i + 1];
      i += 2;
      switch (e) {
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case '\'':
          out.push_back('\'');
          break;
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case 'U': {
          // \U + 6 hex digits (DMN 1.5 for code points beyond the BMP).
          uint32_t cp = 0;
          if (i + 6 > src_.size()) return Error(i - 2, "invalid \\U escape");
          for (size_t k = i; k < i + 6; ++k) {
            char h = src_[k];
            int d = (h >= '0' && h <= '9')   ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (d < 0) return Error(i - 2, "invalid \\U escape");
            cp = cp * 16 + static_cast<uint32_t>(d);
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return Error(i - 2, "invalid \\U escape");
          }
          i += 6;
          AppendUtf8(&out, cp);
          break;
        }
        case 'u': {
          auto hex4 = [&](size_t at, uint32_t* v) {
            if (at + 4 > src_.size()) return false;
            uint32_t r = 0;
            for (size_t k = at; k < at + 4; ++k) {
              char h = src_[k];
              r <<= 4;
              if (h >= '0' && h <= '9') {
                r |= h - '0';
              } else if (h >= 'a' && h <= 'f') {
                r |= h - 'a' + 10;
              } else if (h >= 'A' && h <= 'F') {
                r |= h - 'A' + 10;
              } else {
                return false;
              }
            }
            *v = r;
            return true;
          };
          uint32_t cp;
          if (!hex4(i, &cp)) return Error(i - 2, "invalid \\u escape");
          i += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (i + 6 <= src_.size() && src_[i] == '\\' && src_[i + 1] == 'u' && hex4(i + 2, &lo) &&
                lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i += 6;
            } else {
              return Error(i - 6, "invalid surrogate pair in \\u escape");
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Error(i - 6, "invalid surrogate in \\u escape");
          }
          AppendUtf8(&out, cp);
          break;
        }
        default:
          // Unknown escapes stay as written, so regex escapes like "\d" reach the pattern
          // (feel-scala behaves the same).
          out.push_back('\\');
          out.push_back(e);
      }
    }
    t.end = i + 1;
    t.text = src_.substr(pos, t.end - pos);
    return t;
  }

  std::string_view src_;
};

class ParseError {
 public:
  bool failed = false;
  size_t pos = 0;
  std::string message;
};

class Parser {
 public:
  Parser(std::string_view src, const CompileOptions* options) : lex_(src), src_(src) {
    tok_ = lex_.Lex(0);
    if (options != nullptr) type_resolver_ = &options->type_resolver;
    if (options != nullptr) {
      for (const std::string& n : options->known_names) {
        if (!n.empty()) known_names_.push_back(n);
      }
      std::sort(known_names_.begin(), known_names_.end(),
                [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    }
  }

  absl::StatusOr<std::shared_ptr<Program>> ParseProgram(bool unary_tests) {
    auto program = std::make_shared<Program>();
    program->source = std::string(src_);
    program->unary_tests = unary_tests;
    NodePtr root = unary_tests ? ParseUnaryTestsRoot() : ParseExpr();
    if (!err_.failed && tok_.kind != Tok::kEnd) {
      if (tok_.kind == Tok::kError) {
        Fail(tok_.pos, tok_.value);
      } else {
        Fail(tok_.pos, absl::StrCat("unexpected '", Describe(tok_), "'"));
      }
    }
    if (err_.failed) {
      return absl::InvalidArgumentError(
          absl::StrCat("FEEL syntax error: ", err_.message, " at ", Where(err_.pos)));
    }
    program->root = std::move(root);
    program->free_variables = std::move(globals_);
    return program;
  }

 private:
  // ---- token helpers ----
  void Advance() {
    pos_ = tok_.end;
    tok_ = lex_.Lex(pos_);
  }
  bool IsPunct(std::string_view p) const { return tok_.kind == Tok::kPunct && tok_.text == p; }
  bool IsWord(std::string_view w) const {
    return tok_.kind == Tok::kName && !tok_.backtick && tok_.text == w;
  }
  bool Accept(std::string_view p) {
    if (!IsPunct(p)) return false;
    Advance();
    return true;
  }
  bool AcceptWord(std::string_view w) {
    if (!IsWord(w)) return false;
    Advance();
    return true;
  }
  void Expect(std::string_view p) {
    if (err_.failed) return;
    if (!Accept(p)) FailExpected(absl::StrCat("'", AV(p), "'"));
  }
  void ExpectWord(std::string_view w) {
    if (err_.failed) return;
    if (!AcceptWord(w)) FailExpected(absl::StrCat("'", AV(w), "'"));
  }
  void FailExpected(std::string_view what) {
    if (tok_.kind == Tok::kError) return Fail(tok_.pos, tok_.value);
    if (tok_.kind == Tok::kEnd)
      return Fail(tok_.pos, absl::StrCat("expected ", AV(what), " but the expression ended"));
    Fail(tok_.pos, absl::StrCat("expected ", AV(what), " but found '", Describe(tok_), "'"));
  }
  void Fail(size_t pos, std::string msg) {
    if (err_.failed) return;
    err_.failed = true;
    err_.pos = pos;
    err_.message = std::move(msg);
  }
  std::string Describe(const Token& t) const {
    std::string_view s = t.text;
    if (s.size() > 20) return absl::StrCat(AV(s.substr(0, 20)), "...");
    return std::string(s);
  }
  // "column 12" or "line 2, column 3"; columns count characters (UTF-8 code points).
  std::string Where(size_t pos) const {
    pos = std::min(pos, src_.size());
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos; ++i) {
      if (src_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    int column = 1;
    for (size_t i = line_start; i < pos; ++i) {
      if ((static_cast<unsigned char>(src_[i]) & 0xC0) != 0x80) ++column;
    }
    if (line > 1) return absl::StrCat("line ", line, ", column ", column);
    return absl::StrCat("column ", column);
  }
  // Node positions are 1-based byte offsets (cheap; converted to line/column only for errors).
  int Column(size_t pos) const {
    return static_cast<int>(std::min<size_t>(pos, INT32_MAX - 1)) + 1;
  }
  NodePtr Null() { return std::make_unique<LiteralNode>(Column(tok_.pos), Value()); }

  // ---- depth accounting ----
  struct DepthGuard {
    Parser* p;
    explicit DepthGuard(Parser* parser) : p(parser) {
      if (++p->depth_ > kMaxParseDepth) {
        p->Fail(p->tok_.pos, absl::StrCat("expression nested too deeply (more than ",
                                          kMaxParseDepth, " levels)"));
      }
    }
    ~DepthGuard() { --p->depth_; }
  };

  // ---- lexical scopes ----
  bool IsLexicallyBound(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (it->contains(name)) return true;
    }
    return false;
  }
  int GlobalSlot(const std::string& name) {
    auto [it, inserted] = global_slots_.try_emplace(name, static_cast<int>(globals_.size()));
    if (inserted) globals_.push_back(name);
    return it->second;
  }
  NodePtr MakeName(int column, std::string name) {
    if (name == "?") return std::make_unique<InputNode>(column);
    bool bound = IsLexicallyBound(name);
    bool dynamic = bound || dynamic_depth_ > 0;
    int slot = bound ? -1 : GlobalSlot(name);
    return std::make_unique<NameNode>(column, std::move(name), slot, dynamic);
  }

  // Reads a (possibly multi-word) name starting at the current name token. A known name
  // (CompileOptions::known_names) matching here wins, longest first.
  std::string ReadName() {
    if (!tok_.backtick && !known_names_.empty()) {
      for (const std::string& k : known_names_) {
        size_t end = tok_.pos + k.size();
        if (end <= src_.size() && src_.compare(tok_.pos, k.size(), k) == 0 &&
            (end == src_.size() || !IsNamePart(static_cast<unsigned char>(src_[end])))) {
          pos_ = end;
          tok_ = lex_.Lex(pos_);
          return k;
        }
      }
    }
    if (tok_.backtick) {
      std::string n = tok_.value;
      Advance();
      return n;
    }
    std::string name(tok_.text);
    size_t last_end = tok_.end;
    Advance();
    while (tok_.kind == Tok::kName && !tok_.backtick && !IsStopWord(tok_.text) &&
           OnlySpacesBetween(last_end, tok_.pos)) {
      absl::StrAppend(&name, " ", AV(tok_.text));
      last_end = tok_.end;
      Advance();
    }
    return name;
  }
  bool StartsKnownName() const {
    for (const std::string& k : known_names_) {
      size_t end = tok_.pos + k.size();
      if (end <= src_.size() && src_.compare(tok_.pos, k.size(), k) == 0 &&
          (end == src_.size() || !IsNamePart(static_cast<unsigned char>(src_[end])))) {
        return true;
      }
    }
    return false;
  }
  bool OnlySpacesBetween(size_t a, size_t b) const {
    for (size_t i = a; i < b; ++i) {
      char c = src_[i];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
    }
    return true;
  }
  // Matches a built-in name containing keywords ("date and time") followed by '('.
  std::string MatchKeywordBuiltin() {
    for (const auto& words : KeywordBuiltinNames()) {
      size_t pos = pos_;
      Token t = tok_;
      bool ok = true;
      for (const auto& w : words) {
        if (t.kind != Tok::kName || t.backtick || t.text != w) {
          ok = false;
          break;
        }
        pos = t.end;
        t = lex_.Lex(pos);
      }
      if (ok && t.kind == Tok::kPunct && t.text == "(") {
        std::string name;
        for (const auto& w : words) {
          if (!name.empty()) name += " ";
          name += w;
        }
        pos_ = pos;
        tok_ = t;
        return name;
      }
    }
    return "";
  }

  // ---- grammar ----
  NodePtr ParseExpr() {
    DepthGuard g(this);
    if (err_.failed) return Null();
    if (IsWord("if")) return ParseIf();
    if (IsWord("for")) return ParseFor();
    if (IsWord("some") || IsWord("every")) {
      // `some`/`every` are quantifiers only when followed by a name and `in`.
      Token next = lex_.Lex(tok_.end);
      if (next.kind == Tok::kName) return ParseQuantified();
    }
    return ParseDisjunction();
  }

  NodePtr ParseIf() {
    int col = Column(tok_.pos);
    Advance();
    NodePtr c = ParseExpr();
    ExpectWord("then");
    NodePtr t = ParseExpr();
    ExpectWord("else");
    NodePtr e = ParseExpr();
    if (err_.failed) return Null();
    return std::make_unique<IfNode>(col, std::move(c), std::move(t), std::move(e));
  }

  std::vector<Iterator> ParseIterators(absl::flat_hash_set<std::string>* frame) {
    std::vector<Iterator> its;
    do {
      if (tok_.kind != Tok::kName) {
        FailExpected("a name");
        return its;
      }
      Iterator it;
      it.name = ReadName();
      ExpectWord("in");
      if (err_.failed) return its;
      it.domain = ParseAdditive();
      if (Accept("..")) it.range_end = ParseAdditive();
      frame->insert(it.name);
      its.push_back(std::move(it));
    } while (!err_.failed && Accept(","));
    return its;
  }

  NodePtr ParseFor() {
    int col = Column(tok_.pos);
    Advance();
    scopes_.emplace_back();
    std::vector<Iterator> its = ParseIterators(&scopes_.back());
    ExpectWord("return");
    scopes_.back().insert("partial");
    size_t partial_before = partial_uses_;
    NodePtr body = ParseExpr();
    bool uses_partial = partial_uses_ != partial_before;
    scopes_.pop_back();
    if (err_.failed) return Null();
    return std::make_unique<ForNode>(col, std::move(its), std::move(body), uses_partial);
  }

  NodePtr ParseQuantified() {
    int col = Column(tok_.pos);
    bool every = IsWord("every");
    Advance();
    scopes_.emplace_back();
    std::vector<Iterator> its = ParseIterators(&scopes_.back());
    ExpectWord("satisfies");
    NodePtr cond = ParseExpr();
    scopes_.pop_back();
    if (err_.failed) return Null();
    return std::make_unique<QuantifiedNode>(col, every, std::move(its), std::move(cond));
  }

  NodePtr ParseDisjunction() {
    int col = Column(tok_.pos);
    NodePtr first = ParseConjunction();
    if (!IsWord("or")) return first;
    std::vector<NodePtr> items;
    items.push_back(std::move(first));
    while (!err_.failed && AcceptWord("or")) items.push_back(ParseConjunction());
    if (err_.failed) return Null();
    return std::make_unique<LogicNode>(col, false, std::move(items));
  }

  NodePtr ParseConjunction() {
    int col = Column(tok_.pos);
    NodePtr first = ParseComparison();
    if (!IsWord("and")) return first;
    std::vector<NodePtr> items;
    items.push_back(std::move(first));
    while (!err_.failed && AcceptWord("and")) items.push_back(ParseComparison());
    if (err_.failed) return Null();
    return std::make_unique<LogicNode>(col, true, std::move(items));
  }

  // `< e`, `<= e`, `> e`, `>= e` as a range literal (unary comparison).
  NodePtr ParseUnaryComparison() {
    int col = Column(tok_.pos);
    std::string op(tok_.text);
    Advance();
    NodePtr e = ParseAdditive();
    if (err_.failed) return Null();
    if (op == "<") return std::make_unique<RangeNode>(col, nullptr, std::move(e), false, false);
    if (op == "<=") return std::make_unique<RangeNode>(col, nullptr, std::move(e), false, true);
    if (op == ">") return std::make_unique<RangeNode>(col, std::move(e), nullptr, false, false);
    return std::make_unique<RangeNode>(col, std::move(e), nullptr, true, false);
  }
  bool AtUnaryComparison() const {
    return IsPunct("<") || IsPunct("<=") || IsPunct(">") || IsPunct(">=");
  }

  NodePtr ParseComparison() {
    if (AtUnaryComparison()) return ParseUnaryComparison();
    int col = Column(tok_.pos);
    NodePtr x = ParseAdditive();
    if (err_.failed) return x;
    static const std::pair<std::string_view, CompareOp> kOps[] = {
        {"=", CompareOp::kEq},  {"!=", CompareOp::kNe}, {"<", CompareOp::kLt},
        {"<=", CompareOp::kLe}, {">", CompareOp::kGt},  {">=", CompareOp::kGe}};
    for (const auto& [text, op] : kOps) {
      if (IsPunct(text)) {
        Advance();
        NodePtr y = ParseAdditive();
        if (err_.failed) return Null();
        return std::make_unique<CompareNode>(col, op, std::move(x), std::move(y));
      }
    }
    if (AcceptWord("between")) {
      NodePtr low = ParseAdditive();
      ExpectWord("and");
      NodePtr high = ParseAdditive();
      if (err_.failed) return Null();
      return std::make_unique<BetweenNode>(col, std::move(x), std::move(low), std::move(high));
    }
    if (AcceptWord("in")) {
      std::vector<UnaryTest> tests = ParseInTests();
      if (err_.failed) return Null();
      return std::make_unique<InNode>(col, std::move(x), std::move(tests));
    }
    if (IsWord("instance")) {
      Advance();
      ExpectWord("of");
      std::string type = ParseTypeName();
      if (err_.failed) return Null();
      return std::make_unique<InstanceOfNode>(col, std::move(x), ResolveType(type));
    }
    return x;
  }

  // The type a type name denotes; nullptr when it names no known type.
  TypePtr ResolveType(std::string_view text) const {
    static const TypeResolver kNone;
    absl::StatusOr<TypePtr> t =
        ParseType(text, type_resolver_ != nullptr ? *type_resolver_ : kNone);
    return t.ok() ? *t : nullptr;
  }

  // A type name: qualified names, "date and time", list<T>, context<k: T>, function<T>->U ...
  std::string ParseTypeName() {
    if (tok_.kind != Tok::kName) {
      FailExpected("a type name");
      return "";
    }
    size_t start = tok_.pos;
    size_t end = tok_.end;
    Advance();
    // Multi-word and keyword type names.
    while (tok_.kind == Tok::kName && !tok_.backtick &&
           (tok_.text == "and" || tok_.text == "time" || tok_.text == "months" ||
            tok_.text == "duration" || tok_.text == "days") &&
           OnlySpacesBetween(end, tok_.pos)) {
      end = tok_.end;
      Advance();
    }
    while (IsPunct(".")) {
      Advance();
      if (tok_.kind != Tok::kName) {
        FailExpected("a type name");
        return "";
      }
      end = tok_.end;
      Advance();
    }
    if (IsPunct("<")) {
      int level = 0;
      while (!err_.failed) {
        if (tok_.kind == Tok::kEnd || tok_.kind == Tok::kError) {
          FailExpected("'>'");
          return "";
        }
        if (IsPunct("<")) ++level;
        if (IsPunct(">")) --level;
        end = tok_.end;
        Advance();
        if (level == 0) break;
      }
      if (IsPunct("-")) {
        // function<A>->B
        Token next = lex_.Lex(tok_.end);
        if (next.kind == Tok::kPunct && next.text == ">") {
          Advance();
          Advance();
          std::string rest = ParseTypeName();
          return absl::StrCat(NormalizeSpaces(src_.substr(start, end - start)), "->", rest);
        }
      }
    }
    return NormalizeSpaces(src_.substr(start, end - start));
  }
  static std::string NormalizeSpaces(std::string_view s) {
    std::string out;
    bool space = false;
    for (char c : s) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        space = true;
        continue;
      }
      if (space && !out.empty() && c != '<' && c != '>' && c != ',' && c != ':' &&
          out.back() != '<' && out.back() != ',' && out.back() != ':') {
        out.push_back(' ');
      }
      if (c == ':' || c == ',') {
        out.push_back(c);
        out.push_back(' ');
        space = false;
        continue;
      }
      space = false;
      out.push_back(c);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }

  // `= e` / `!= e` unary tests (DMN 1.5).
  bool ParseEqualityTest(UnaryTest* t, bool full) {
    if (!IsPunct("=") && !IsPunct("!=")) return false;
    t->op = IsPunct("=") ? UnaryTest::Op::kEq : UnaryTest::Op::kNe;
    Advance();
    t->node = full ? ParseExpr() : ParseAdditive();
    return true;
  }

  UnaryTest ParseOneTest() {
    UnaryTest t;
    size_t before = input_uses_;
    if (ParseEqualityTest(&t, true)) {
      // parsed
    } else if (AtUnaryComparison()) {
      t.node = ParseUnaryComparison();
    } else {
      t.node = ParseExpr();
    }
    t.uses_input = input_uses_ != before;
    t.bool_literal = t.node && t.node->IsBoolLiteral();
    return t;
  }

  // The right side of `x in ...`: `(test, test)`, or one positive unary test.
  std::vector<UnaryTest> ParseInTests() {
    std::vector<UnaryTest> tests;
    if (IsPunct("(")) {
      size_t save_pos = pos_;
      Token save_tok = tok_;
      ParseError save_err = err_;
      Advance();
      std::vector<UnaryTest> list;
      list.push_back(ParseOneTest());
      while (!err_.failed && Accept(",")) list.push_back(ParseOneTest());
      if (!err_.failed && Accept(")")) return list;
      // Not a parenthesised list: an open range like (1..5). Re-parse.
      pos_ = save_pos;
      tok_ = save_tok;
      err_ = save_err;
    }
    UnaryTest t;
    size_t before = input_uses_;
    if (ParseEqualityTest(&t, false)) {
      // parsed
    } else if (AtUnaryComparison()) {
      t.node = ParseUnaryComparison();
    } else {
      // A comparison is allowed so that `5 in ? < 10` works (feel-scala); `and`/`or` end it.
      t.node = ParseComparison();
    }
    t.uses_input = input_uses_ != before;
    t.bool_literal = t.node && t.node->IsBoolLiteral();
    tests.push_back(std::move(t));
    return tests;
  }

  NodePtr ParseAdditive() {
    int col = Column(tok_.pos);
    NodePtr first = ParseMultiplicative();
    if (!(IsPunct("+") || IsPunct("-"))) return first;
    auto node = std::make_unique<ArithNode>(col, std::move(first));
    while (!err_.failed && (IsPunct("+") || IsPunct("-"))) {
      ArithOp op = IsPunct("+") ? ArithOp::kAdd : ArithOp::kSub;
      Advance();
      node->Append(op, ParseMultiplicative());
    }
    if (err_.failed) return Null();
    return node;
  }

  NodePtr ParseMultiplicative() {
    int col = Column(tok_.pos);
    NodePtr first = ParsePower();
    if (!(IsPunct("*") || IsPunct("/"))) return first;
    auto node = std::make_unique<ArithNode>(col, std::move(first));
    while (!err_.failed && (IsPunct("*") || IsPunct("/"))) {
      ArithOp op = IsPunct("*") ? ArithOp::kMul : ArithOp::kDiv;
      Advance();
      node->Append(op, ParsePower());
    }
    if (err_.failed) return Null();
    return node;
  }

  NodePtr ParsePower() {
    int col = Column(tok_.pos);
    NodePtr first = ParseUnary();
    if (!IsPunct("**")) return first;
    auto node = std::make_unique<ArithNode>(col, std::move(first));
    while (!err_.failed && Accept("**")) node->Append(ArithOp::kPow, ParseUnary());
    if (err_.failed) return Null();
    return node;
  }

  NodePtr ParseUnary() {
    if (IsPunct("-")) {
      DepthGuard g(this);
      if (err_.failed) return Null();
      int col = Column(tok_.pos);
      Advance();
      NodePtr operand = ParseUnary();
      if (err_.failed) return Null();
      if (operand->IsNumberLiteral()) {
        const auto* lit = static_cast<const LiteralNode*>(operand.get());
        return std::make_unique<LiteralNode>(col, Value::Number(lit->value().as_number().Negate()));
      }
      return std::make_unique<NegateNode>(col, std::move(operand));
    }
    return ParsePostfix();
  }

  NodePtr ParsePostfix() {
    NodePtr base = ParsePrimary();
    int chain = 0;
    while (!err_.failed) {
      int col = Column(tok_.pos);
      if (IsPunct(".")) {
        Advance();
        if (tok_.kind != Tok::kName) {
          FailExpected("a name after '.'");
          break;
        }
        std::string name = ReadName();
        base = std::make_unique<PathNode>(col, std::move(base), std::move(name));
      } else if (IsPunct("[") && !no_filter_) {
        Advance();
        bool saved = no_filter_;
        no_filter_ = false;
        ++dynamic_depth_;
        NodePtr filter = ParseExpr();
        --dynamic_depth_;
        no_filter_ = saved;
        Expect("]");
        if (err_.failed) break;
        base = std::make_unique<FilterNode>(col, std::move(base), std::move(filter));
      } else if (IsPunct("(")) {
        std::vector<NodePtr> args;
        std::vector<std::string> names;
        ParseArguments(&args, &names);
        if (err_.failed) break;
        base = std::make_unique<CallNode>(col, std::move(base), std::move(args), std::move(names));
      } else {
        break;
      }
      if (depth_ + ++chain > kMaxParseDepth) {
        Fail(tok_.pos,
             absl::StrCat("expression nested too deeply (more than ", kMaxParseDepth, " levels)"));
      }
    }
    if (err_.failed) return Null();
    return base;
  }

  // '(' [args] ')' with either all positional or all named arguments.
  void ParseArguments(std::vector<NodePtr>* args, std::vector<std::string>* names) {
    DepthGuard g(this);
    if (err_.failed) return;
    Expect("(");
    bool saved = no_filter_;
    no_filter_ = false;
    if (!Accept(")")) {
      do {
        // Named argument: name ':' expression.
        if (tok_.kind == Tok::kName) {
          size_t save_pos = pos_;
          Token save_tok = tok_;
          std::string n = ReadName();
          if (IsPunct(":")) {
            Advance();
            names->push_back(std::move(n));
            args->push_back(ParseExpr());
            continue;
          }
          pos_ = save_pos;
          tok_ = save_tok;
        }
        if (!names->empty()) {
          FailExpected("a named argument");
          break;
        }
        args->push_back(ParseExpr());
      } while (!err_.failed && Accept(","));
      if (!names->empty() && names->size() != args->size()) {
        Fail(tok_.pos, "cannot mix positional and named arguments");
      }
      Expect(")");
    }
    no_filter_ = saved;
  }

  NodePtr ParsePrimary() {
    DepthGuard g(this);
    if (err_.failed) return Null();
    int col = Column(tok_.pos);
    switch (tok_.kind) {
      case Tok::kError:
        Fail(tok_.pos, tok_.value);
        return Null();
      case Tok::kEnd:
        FailExpected("an expression");
        return Null();
      case Tok::kNumber: {
        std::optional<Decimal> d = Decimal::Parse(tok_.text);
        if (!d) {
          Fail(tok_.pos, "invalid number");
          return Null();
        }
        Advance();
        return std::make_unique<LiteralNode>(col, Value::Number(*d));
      }
      case Tok::kString: {
        Value v = Value::String(std::move(tok_.value));
        Advance();
        return std::make_unique<LiteralNode>(col, std::move(v));
      }
      case Tok::kTemporal:
        return ParseTemporalLiteral();
      case Tok::kName:
        return ParseNamePrimary();
      case Tok::kPunct:
        break;
    }
    if (IsPunct("?")) {
      Advance();
      ++input_uses_;
      return std::make_unique<InputNode>(col);
    }
    if (IsPunct("(")) {
      Advance();
      bool saved = no_filter_;
      no_filter_ = false;
      if (IsPunct("=")) {
        // `(= e)`: the range [e..e] (DMN 1.5 range of a unary equality test).
        Advance();
        NodePtr point = ParseAdditive();
        no_filter_ = saved;
        Expect(")");
        if (err_.failed) return Null();
        return std::make_unique<PointRangeNode>(col, std::move(point));
      }
      NodePtr e = ParseExpr();
      if (Accept("..")) {
        NodePtr r = ParseRangeRest(col, std::move(e), false);
        no_filter_ = saved;
        return r;
      }
      no_filter_ = saved;
      Expect(")");
      if (err_.failed) return Null();
      return e;
    }
    if (IsPunct("]")) {  // ]a..b] : open start in ISO notation
      Advance();
      NodePtr e = ParseAdditive();
      Expect("..");
      if (err_.failed) return Null();
      return ParseRangeRest(col, std::move(e), false);
    }
    if (IsPunct("[")) {
      Advance();
      bool saved = no_filter_;
      no_filter_ = false;
      if (Accept("]")) {
        no_filter_ = saved;
        return std::make_unique<ListNode>(col, std::vector<NodePtr>{});
      }
      std::vector<NodePtr> items;
      items.push_back(ParseExpr());
      if (Accept("..")) {
        NodePtr r = ParseRangeRest(col, std::move(items[0]), true);
        no_filter_ = saved;
        return r;
      }
      while (!err_.failed && Accept(",")) items.push_back(ParseExpr());
      Expect("]");
      no_filter_ = saved;
      if (err_.failed) return Null();
      return std::make_unique<ListNode>(col, std::move(items));
    }
    if (IsPunct("{")) return ParseContext();
    if (AtUnaryComparison()) return ParseUnaryComparison();
    FailExpected("an expression");
    return Null();
  }

  // After `start ..`: parse the end and the closing bracket.
  NodePtr ParseRangeRest(int col, NodePtr start, bool start_included) {
    bool saved = no_filter_;
    no_filter_ = true;  // `[1..5[`: the closing '[' is not a filter
    NodePtr end = ParseAdditive();
    no_filter_ = saved;
    bool end_included;
    if (Accept("]")) {
      end_included = true;
    } else if (Accept(")") || Accept("[")) {
      end_included = false;
    } else {
      FailExpected("']' or ')' to close the range");
      return Null();
    }
    if (err_.failed) return Null();
    return std::make_unique<RangeNode>(col, std::move(start), std::move(end), start_included,
                                       end_included);
  }

  NodePtr ParseTemporalLiteral() {
    int col = Column(tok_.pos);
    std::string text = tok_.value;
    size_t at = tok_.pos;
    Advance();
    Value v;
    if (auto d = ParseDate(text)) {
      v = Value::Date(*d);
    } else if (auto dt = ParseDateTime(text)) {
      v = Value::DateTime(*dt);
    } else if (auto t = ParseTime(text)) {
      v = Value::Time(*t);
    } else if (auto ym = ParseYearsMonthsDuration(text)) {
      v = Value::YearsMonthsDuration(*ym);
    } else if (auto dtd = ParseDaysTimeDuration(text)) {
      v = Value::DaysTimeDuration(*dtd);
    } else {
      (void)at;  // not a temporal value: null, as in the spec and feel-scala
    }
    return std::make_unique<LiteralNode>(col, std::move(v));
  }

  NodePtr ParseNamePrimary() {
    int col = Column(tok_.pos);
    if (!tok_.backtick) {
      if (IsWord("true") || IsWord("false")) {
        bool b = IsWord("true");
        Advance();
        return std::make_unique<LiteralNode>(col, Value::Bool(b));
      }
      if (IsWord("null")) {
        Advance();
        return std::make_unique<LiteralNode>(col, Value());
      }
      if (IsWord("function")) return ParseFunctionDef();
      if (IsWord("if")) return ParseIf();
      if (IsWord("for")) return ParseFor();
      if (IsWord("some") || IsWord("every")) {
        Token next = lex_.Lex(tok_.end);
        if (next.kind == Tok::kName) return ParseQuantified();
      }
      if (IsWord("not")) {
        Token next = lex_.Lex(tok_.end);
        if (next.kind == Tok::kPunct && next.text == "(") {
          Advance();
          return ParseCallByName(col, "not");
        }
      }
      std::string kw = MatchKeywordBuiltin();
      if (!kw.empty()) return ParseCallByName(col, kw);
      if (IsStopWord(tok_.text) && !StartsKnownName()) {
        Fail(tok_.pos, absl::StrCat("unexpected '", AV(tok_.text), "'"));
        return Null();
      }
    }
    std::string name = ReadName();
    if (IsPunct("(")) return ParseCallByName(col, name);
    if (name == "partial") ++partial_uses_;
    return MakeName(col, std::move(name));
  }

  NodePtr ParseCallByName(int col, const std::string& name) {
    std::vector<NodePtr> args;
    std::vector<std::string> names;
    ParseArguments(&args, &names);
    if (err_.failed) return Null();
    bool bound = IsLexicallyBound(name);
    const Builtin* builtin = FindBuiltin(name);
    // A known name (a host variable, e.g. a DMN business knowledge model called "round") that
    // shadows a built-in gets a slot too: the variable wins when it holds a function.
    const bool known = builtin != nullptr && std::find(known_names_.begin(), known_names_.end(),
                                                       name) != known_names_.end();
    int slot = ((builtin == nullptr || known) && !bound) ? GlobalSlot(name) : -1;
    return std::make_unique<CallNode>(col, name, builtin, bound || dynamic_depth_ > 0, slot,
                                      std::move(args), std::move(names));
  }

  NodePtr ParseFunctionDef() {
    int col = Column(tok_.pos);
    Advance();
    Expect("(");
    std::vector<std::string> params;
    std::vector<TypePtr> param_types;
    bool typed = false;
    if (!err_.failed && !Accept(")")) {
      do {
        if (tok_.kind != Tok::kName) {
          FailExpected("a parameter name");
          return Null();
        }
        params.push_back(ReadName());
        param_types.push_back(nullptr);
        if (Accept(":")) {
          // Typed parameter: arguments are converted to it (or the call yields null). An
          // unknown type name accepts anything.
          param_types.back() = ResolveType(ParseTypeName());
          typed = true;
        }
      } while (!err_.failed && Accept(","));
      Expect(")");
    }
    if (!typed) param_types.clear();
    if (AcceptWord("external")) {
      NodePtr description = ParseExpr();
      if (err_.failed) return Null();
      return std::make_unique<ExternalFunctionNode>(col, std::move(params), std::move(description));
    }
    scopes_.emplace_back(params.begin(), params.end());
    NodePtr body = ParseExpr();
    scopes_.pop_back();
    if (err_.failed) return Null();
    return std::make_unique<FunctionDefNode>(col, std::move(params), std::move(param_types),
                                             std::move(body));
  }

  // A context key: a string literal, or any text up to ':' without reserved symbols
  // (feel-scala accepts keys like `foo-bar` or `a b`).
  bool ParseContextKey(std::string* key) {
    if (tok_.kind == Tok::kString) {
      *key = tok_.value;
      Advance();
      return true;
    }
    if (tok_.kind == Tok::kName && tok_.backtick) {
      *key = tok_.value;
      Advance();
      return true;
    }
    size_t i = tok_.pos;
    size_t start = i;
    while (i < src_.size() && src_[i] != ':') {
      char c = src_[i];
      if (c == '"' || c == '{' || c == '}' || c == ',' || c == '[' || c == ']' || c == '`') {
        break;
      }
      ++i;
    }
    if (i >= src_.size() || src_[i] != ':' || i == start) {
      FailExpected("a context key");
      return false;
    }
    std::string_view raw = src_.substr(start, i - start);
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r')) {
      raw.remove_suffix(1);
    }
    *key = NormalizeKey(raw);
    pos_ = i;
    tok_ = lex_.Lex(pos_);
    return true;
  }
  // Keys keep their inner whitespace as written (feel-scala: {foo   bar: 1}.`foo   bar`).
  static std::string NormalizeKey(std::string_view raw) {
    while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t' || raw.front() == '\n' ||
                            raw.front() == '\r')) {
      raw.remove_prefix(1);
    }
    return std::string(raw);
  }

  NodePtr ParseContext() {
    int col = Column(tok_.pos);
    Advance();  // {
    bool saved = no_filter_;
    no_filter_ = false;
    std::vector<std::pair<std::string, NodePtr>> entries;
    bool duplicate = false;
    absl::flat_hash_set<std::string> seen_keys;
    scopes_.emplace_back();
    if (!Accept("}")) {
      do {
        std::string key;
        if (!ParseContextKey(&key)) break;
        Expect(":");
        // A function entry may call itself by its key.
        if (IsWord("function")) scopes_.back().insert(key);
        NodePtr value = ParseExpr();
        if (err_.failed) break;
        if (!seen_keys.insert(key).second) duplicate = true;
        scopes_.back().insert(key);
        entries.emplace_back(std::move(key), std::move(value));
      } while (!err_.failed && Accept(","));
      Expect("}");
    }
    scopes_.pop_back();
    no_filter_ = saved;
    if (err_.failed) return Null();
    return std::make_unique<ContextNode>(col, std::move(entries), duplicate);
  }

  NodePtr ParseUnaryTestsRoot() {
    int col = Column(tok_.pos);
    if (IsPunct("-")) {
      Token next = lex_.Lex(tok_.end);
      if (next.kind == Tok::kEnd) {
        Advance();
        return std::make_unique<UnaryTestsNode>(col, std::vector<UnaryTest>{}, false, true);
      }
    }
    bool negated = false;
    if (IsWord("not")) {
      Token next = lex_.Lex(tok_.end);
      if (next.kind == Tok::kPunct && next.text == "(") {
        // not(tests) — but only if the closing paren ends the input.
        size_t save_pos = pos_;
        Token save_tok = tok_;
        Advance();
        Advance();
        std::vector<UnaryTest> tests;
        tests.push_back(ParseOneTest());
        while (!err_.failed && Accept(",")) tests.push_back(ParseOneTest());
        if (!err_.failed && Accept(")") && tok_.kind == Tok::kEnd) {
          return std::make_unique<UnaryTestsNode>(col, std::move(tests), true, false);
        }
        if (err_.failed) return Null();
        pos_ = save_pos;
        tok_ = save_tok;
        negated = false;
      }
    }
    std::vector<UnaryTest> tests;
    tests.push_back(ParseOneTest());
    while (!err_.failed && Accept(",")) tests.push_back(ParseOneTest());
    if (err_.failed) return Null();
    return std::make_unique<UnaryTestsNode>(col, std::move(tests), negated, false);
  }

  Lexer lex_;
  std::string_view src_;
  Token tok_;
  size_t pos_ = 0;
  ParseError err_;
  int depth_ = 0;
  int dynamic_depth_ = 0;
  bool no_filter_ = false;
  size_t input_uses_ = 0;
  size_t partial_uses_ = 0;
  std::vector<absl::flat_hash_set<std::string>> scopes_;  // names bound by enclosing constructs
  std::vector<std::string> globals_;
  absl::flat_hash_map<std::string, int> global_slots_;
  std::vector<std::string> known_names_;  // longest first
  const TypeResolver* type_resolver_ = nullptr;
};

}  // namespace

absl::StatusOr<std::shared_ptr<Program>> ParseExpression(std::string_view source,
                                                         const CompileOptions* options) {
  Parser p(source, options);
  return p.ParseProgram(false);
}

absl::StatusOr<std::shared_ptr<Program>> ParseUnaryTests(std::string_view source,
                                                         const CompileOptions* options) {
  Parser p(source, options);
  return p.ParseProgram(true);
}

}  // namespace tern::feel::internal
