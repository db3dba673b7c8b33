// Memory of a parsed BPMN model: bytes per model element and per byte of XML. Prints figures,
// asserts nothing (tests never measure). Build it Release (-DCMAKE_BUILD_TYPE=Release, no
// sanitizers): the heap figures come from glibc's mallinfo2, which ASan replaces.
//
//   tern-bpmn-memory-bench [--tasks N]
//
// For each model shape: heap bytes the parsed model holds (mallinfo2 in-use bytes, parsed model
// kept alive) divided by its elements, the resident-set peak while parsing (VmHWM, reset before
// each parse), and the resident set after the model is released, before and after malloc_trim.

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "bpmn/parser.h"

namespace {

int64_t StatusKib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) return std::stoll(line.substr(prefix.size()));
  }
  return 0;
}

void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

int64_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);  // small blocks + mmapped ones
}

const char* kHeader =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">
<bpmn:process id="p" isExecutable="true">
)";

// Tasks without flows or extensions (about 24 bytes of XML each): the issue's 2.4 MB model.
std::string BareTasks(int tasks) {
  std::string xml = kHeader;
  xml +=
      "<bpmn:startEvent id=\"s\"/><bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/>"
      "<bpmn:endEvent id=\"e\"/>\n";
  for (int i = 0; i < tasks; ++i) absl::StrAppend(&xml, "<bpmn:task id=\"t", i, "\"/>\n");
  xml += "</bpmn:process></bpmn:definitions>\n";
  return xml;
}

// A chain start -> service tasks -> end, each task with a job type, one FEEL retries expression
// and an output mapping: what a generated model looks like.
std::string ServiceChain(int tasks) {
  std::string xml = kHeader;
  xml += "<bpmn:startEvent id=\"s\"/>\n";
  std::string previous = "s";
  for (int i = 0; i < tasks; ++i) {
    std::string id = absl::StrCat("t", i);
    absl::StrAppend(&xml, "<bpmn:sequenceFlow id=\"f", i, "\" sourceRef=\"", previous,
                    "\" targetRef=\"", id, "\"/>");
    absl::StrAppend(&xml, "<bpmn:serviceTask id=\"", id,
                    "\"><bpmn:extensionElements><zeebe:taskDefinition type=\"payment-service\" "
                    "retries=\"=retries\"/></bpmn:extensionElements></bpmn:serviceTask>\n");
    previous = id;
  }
  absl::StrAppend(&xml, "<bpmn:sequenceFlow id=\"fe\" sourceRef=\"", previous,
                  "\" targetRef=\"e\"/>");
  xml += "<bpmn:endEvent id=\"e\"/></bpmn:process></bpmn:definitions>\n";
  return xml;
}

void Measure(const char* shape, const std::string& xml) {
  malloc_trim(0);
  const int64_t rss_before = StatusKib("VmRSS");
  const int64_t heap_before = HeapInUse();
  ResetPeakRss();
  auto parsed = tern::bpmn::ParseBpmn(xml, "bench.bpmn");
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s\n", shape, std::string(parsed.status().message()).c_str());
    std::exit(1);
  }
  const int64_t peak = StatusKib("VmHWM");
  const int64_t heap_model = HeapInUse() - heap_before;
  size_t elements = 0;
  for (const auto& process : (*parsed)->processes) elements += process.elements.size();
  const size_t estimate = tern::bpmn::ApproximateMemoryBytes(**parsed);
  parsed->reset();
  const int64_t rss_released = StatusKib("VmRSS");
  malloc_trim(0);
  const int64_t rss_trimmed = StatusKib("VmRSS");
  std::printf(
      "%-14s xml %8zu B  elements %7zu  model %10lld B  %6.0f B/element  %5.1f B/xml-byte  "
      "estimate %5.2fx  parse peak +%6lld KiB  released: rss +%6lld KiB, trimmed +%6lld KiB\n",
      shape, xml.size(), elements, static_cast<long long>(heap_model),
      static_cast<double>(heap_model) / static_cast<double>(elements),
      static_cast<double>(heap_model) / static_cast<double>(xml.size()),
      static_cast<double>(estimate) / static_cast<double>(heap_model),
      static_cast<long long>(peak - rss_before), static_cast<long long>(rss_released - rss_before),
      static_cast<long long>(rss_trimmed - rss_before));
}

}  // namespace

int main(int argc, char** argv) {
  int tasks = 100'000;
  int chain = 15'000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--tasks") tasks = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--chain") chain = std::atoi(argv[i + 1]);
  }
  std::printf("sizeof(bpmn::Element) = %zu B\n", sizeof(tern::bpmn::Element));
  Measure("bare-tasks", BareTasks(tasks));
  Measure("service-chain", ServiceChain(chain));
  return 0;
}
