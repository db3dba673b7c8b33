#include "bpmn/expression.h"

#include "bpmn/strings.h"

#if TERN_BPMN_HAVE_FEEL
#include "feel/feel.h"
#endif

namespace tern::bpmn {

absl::StatusOr<Expression> MakeExpression(std::string_view text, FeelMode mode,
                                          CompiledExpressions* cache) {
  Expression expression;
  expression.text = std::string(text);
  const std::string_view trimmed = TrimLeft(text);
  const bool prefixed = trimmed.starts_with('=');
  if (!prefixed && mode == FeelMode::kIfPrefixed) return expression;
  const std::string_view source = prefixed ? trimmed.substr(1) : text;
#if TERN_BPMN_HAVE_FEEL
  if (cache != nullptr) {
    if (auto it = cache->find(absl::string_view(source.data(), source.size()));
        it != cache->end()) {
      expression.feel = it->second;
      return expression;
    }
  }
  auto compiled = feel::CompiledExpression::Compile(source);
  if (!compiled.ok()) return compiled.status();
  expression.feel = *std::move(compiled);
  if (cache != nullptr) cache->emplace(std::string(source), expression.feel);
#else
  (void)source;
  (void)cache;
#endif
  return expression;
}

bool FeelCompilerAvailable() {
#if TERN_BPMN_HAVE_FEEL
  return true;
#else
  return false;
#endif
}

}  // namespace tern::bpmn
