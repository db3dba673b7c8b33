// Fuzz-style robustness: random mutations of the test models (fixed seeds, so failures
// reproduce) must never crash, and must always produce either a consistent model or
// INVALID_ARGUMENT. Runs under the sanitizers with the unit tests.

#include <random>
#include <string>
#include <vector>

#include "bpmn/parser.h"
#include "test_util.h"

namespace tern::bpmn {
namespace {

using testing::ReadTestFile;

// Fragments that steer mutations towards the parser's interesting paths.
const std::vector<std::string>& Dictionary() {
  static const auto* const kDictionary =
      new std::vector<std::string>{"<",
                                   ">",
                                   "/>",
                                   "</",
                                   "&",
                                   "&amp;",
                                   "&foo;",
                                   "&#x0;",
                                   "&#65;",
                                   "\"",
                                   "'",
                                   "=",
                                   "<!--",
                                   "-->",
                                   "<![CDATA[",
                                   "]]>",
                                   "<?x?>",
                                   "<!DOCTYPE d>",
                                   "<!ENTITY e 'x'>",
                                   "\xC3",
                                   "\xF0\x9F",
                                   "\xFF",
                                   "\r",
                                   "\n",
                                   "xmlns=\"\"",
                                   "xmlns:bpmn=\"urn:x\"",
                                   "bpmn:",
                                   "zeebe:",
                                   "id=\"x\"",
                                   "id=\"start\"",
                                   "sourceRef=\"nowhere\"",
                                   "default=\"f\"",
                                   "attachedToRef=\"t\"",
                                   "<bpmn:startEvent id=\"s2\"/>",
                                   "<bpmn:sequenceFlow id=\"q\" sourceRef=\"s\" targetRef=\"s\"/>",
                                   "<bpmn:subProcess id=\"sp\">",
                                   "</bpmn:subProcess>",
                                   "triggeredByEvent=\"true\"",
                                   "<bpmn:timerEventDefinition/>",
                                   "<bpmn:messageEventDefinition messageRef=\"m\"/>",
                                   "<zeebe:taskDefinition type=\"=\"/>",
                                   "<zeebe:ioMapping><zeebe:input/></zeebe:ioMapping>",
                                   "isExecutable=\"false\"",
                                   "cancelActivity=\"false\"",
                                   "=a +",
                                   "= if then"};
  return *kDictionary;
}

std::string Mutate(const std::string& input, std::mt19937& rng) {
  std::string out = input;
  const int mutations = 1 + static_cast<int>(rng() % 4);
  for (int m = 0; m < mutations; ++m) {
    const size_t pos = out.empty() ? 0 : rng() % (out.size() + 1);
    switch (rng() % 6) {
      case 0:  // flip a byte
        if (!out.empty()) out[pos % out.size()] = static_cast<char>(rng() % 256);
        break;
      case 1: {  // delete a range
        const size_t length = std::min<size_t>(rng() % 64, out.size() - std::min(pos, out.size()));
        out.erase(std::min(pos, out.size()), length);
        break;
      }
      case 2: {  // insert a dictionary fragment
        const auto& dictionary = Dictionary();
        out.insert(std::min(pos, out.size()), dictionary[rng() % dictionary.size()]);
        break;
      }
      case 3: {  // duplicate a range (repeats tags, ids, attributes)
        const size_t start = std::min(pos, out.size());
        const size_t length = std::min<size_t>(rng() % 200, out.size() - start);
        const std::string copy = out.substr(start, length);
        out.insert(std::min<size_t>(rng() % (out.size() + 1), out.size()), copy);
        break;
      }
      case 4:  // truncate
        out.resize(std::min(pos, out.size()));
        break;
      case 5: {  // swap two ranges' worth of text by moving one
        const size_t start = std::min(pos, out.size());
        const size_t length = std::min<size_t>(rng() % 100, out.size() - start);
        const std::string cut = out.substr(start, length);
        out.erase(start, length);
        out.insert(std::min<size_t>(rng() % (out.size() + 1), out.size()), cut);
        break;
      }
    }
  }
  return out;
}

// Every index in an accepted model points where the engine will look.
void ExpectConsistent(const Definitions& definitions) {
  for (const Process& process : definitions.processes) {
    ASSERT_FALSE(process.elements.empty());
    const auto size = static_cast<ElementIndex>(process.elements.size());
    auto valid = [&](ElementIndex index) {
      return index == kNoElement || (index >= 0 && index < size);
    };
    EXPECT_EQ(process.root().type, ElementType::kProcess);
    for (const Element& element : process.elements) {
      ASSERT_EQ(&process.at(element.index), &element);
      for (ElementIndex i :
           {element.flow_scope, element.none_start_event, element.default_flow, element.source,
            element.target, element.attached_to, element.compensation_handler}) {
        ASSERT_TRUE(valid(i)) << element.id;
      }
      for (const auto* list :
           {&element.children, &element.start_events, &element.event_subprocesses,
            &element.incoming, &element.outgoing, &element.boundary_events}) {
        for (ElementIndex i : *list) ASSERT_TRUE(valid(i) && i != kNoElement) << element.id;
      }
      for (ElementIndex flow : element.outgoing) EXPECT_EQ(process.at(flow).source, element.index);
      for (ElementIndex flow : element.incoming) EXPECT_EQ(process.at(flow).target, element.index);
      if (element.default_flow != kNoElement) {
        EXPECT_EQ(process.at(element.default_flow).source, element.index);
      }
    }
    for (size_t i = 0; i < process.by_id.size(); ++i) {
      const ElementIndex index = process.by_id[i];
      ASSERT_TRUE(valid(index));
      if (i > 0) {
        EXPECT_LE(process.at(process.by_id[i - 1]).id, process.at(index).id);
      }
      const Element* found = process.Find(process.at(index).id);
      ASSERT_NE(found, nullptr);
      EXPECT_EQ(found->id, process.at(index).id);
    }
  }
}

void FuzzFrom(const std::string& seed_input, uint32_t seed, int iterations) {
  std::mt19937 rng(seed);
  ParseOptions zeebe_only;
  zeebe_only.check_tern_support = false;
  int accepted = 0;
  for (int i = 0; i < iterations; ++i) {
    const std::string input = Mutate(seed_input, rng);
    for (const ParseOptions& options : {ParseOptions{}, zeebe_only}) {
      auto result = ParseBpmn(input, "fuzz.bpmn", options);
      if (result.ok()) {
        ++accepted;
        ExpectConsistent(**result);
      } else {
        ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
            << "seed " << seed << " iteration " << i << ": " << result.status();
        ASSERT_FALSE(result.status().message().empty());
      }
    }
  }
  // Not an assertion on behaviour, only a sign the mutations are not all trivially fatal.
  ::testing::Test::RecordProperty("accepted", accepted);
}

TEST(FuzzTest, MutatedLoanApproval) {
  const std::string input = ReadTestFile("loan_approval.bpmn");
  for (uint32_t seed = 1; seed <= 4; ++seed) FuzzFrom(input, seed, 1000);
}

TEST(FuzzTest, MutatedAllElements) {
  const std::string input = ReadTestFile("all_elements.bpmn");
  for (uint32_t seed = 11; seed <= 14; ++seed) FuzzFrom(input, seed, 600);
}

TEST(FuzzTest, RandomBytes) {
  std::mt19937 rng(99);
  for (int i = 0; i < 2000; ++i) {
    std::string input(rng() % 512, '\0');
    for (char& c : input) c = static_cast<char>(rng() % 256);
    if (i % 2 == 0)
      input =
          "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">" + input;
    auto result = ParseBpmn(input, "random.bpmn");
    if (!result.ok()) {
      ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace tern::bpmn
