#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "bpmn/parser.h"

namespace tern::bpmn::testing {

inline std::string ReadTestFile(std::string_view name) {
  std::ifstream in(std::string(TERN_BPMN_TESTDATA) + "/" + std::string(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open test file " << name;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A complete document around `body` (the contents of one executable process with id "p"),
// followed by `globals` (bpmn:message, bpmn:error, ... elements). The process element is on
// line 3 and `body` starts on line 4.
inline std::string Model(std::string_view body, std::string_view globals = {}) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" "
      "xmlns:zeebe=\"http://camunda.org/schema/zeebe/1.0\" id=\"defs\">\n"
      "<bpmn:process id=\"p\" isExecutable=\"true\">\n";
  xml += body;
  xml += "\n</bpmn:process>\n";
  xml += globals;
  xml += "\n</bpmn:definitions>\n";
  return xml;
}

// A start event wired to `first`, with its sequence flow, ready to prepend to a body.
inline std::string StartTo(std::string_view first) {
  return "<bpmn:startEvent id=\"start\"/>\n<bpmn:sequenceFlow id=\"f_start\" sourceRef=\"start\" "
         "targetRef=\"" +
         std::string(first) + "\"/>\n";
}

inline ParseOptions ZeebeRulesOnly() {
  ParseOptions options;
  options.check_tern_support = false;
  return options;
}

// Parses and returns the error message; fails the test if parsing succeeds or the code is not
// INVALID_ARGUMENT.
inline std::string ParseError(std::string_view xml, const ParseOptions& options = {}) {
  auto result = ParseBpmn(xml, "test.bpmn", options);
  EXPECT_FALSE(result.ok()) << "expected the model to be rejected";
  if (result.ok()) return {};
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

inline std::shared_ptr<const Definitions> ParseOk(std::string_view xml,
                                                  const ParseOptions& options = {}) {
  auto result = ParseBpmn(xml, "test.bpmn", options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : nullptr;
}

}  // namespace tern::bpmn::testing
