// ternctl and zbctl 8.4 give the same answers for the same sequence of commands.
//
// Each tool drives its own fresh broker through the same sequence, so both brokers go through
// the same states; then every answer is compared field by field. Keys (fields named key or
// ending in Key, and deadline) are only required to be present and numeric, as they are
// allocated independently; everything else must be equal. Plain-text answers are compared with
// keys masked; errors are compared by gRPC code and message.

#include <gtest/gtest.h>
#include <unistd.h>

#include "tern/client.h"
#include "test_util.h"

namespace tern {
namespace {

using testing::BrokerProcess;
using testing::OneTaskProcess;
using testing::ProcessResult;
using testing::RunProcess;
using testing::TempDir;

bool IsKeyField(const std::string& name) {
  return name == "key" || name == "deadline" ||
         (name.size() > 3 && name.compare(name.size() - 3, 3, "Key") == 0);
}

bool IsKeyText(const nlohmann::json& value) {
  if (!value.is_string()) return false;
  const auto& s = value.get_ref<const std::string&>();
  return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit);
}

// Appends differences between `a` (zbctl) and `b` (ternctl) to `diffs`.
void Compare(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
             std::vector<std::string>& diffs) {
  if (a.type() != b.type()) {
    diffs.push_back(path + ": zbctl " + a.dump() + " vs ternctl " + b.dump());
    return;
  }
  if (a.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      if (!b.contains(it.key())) {
        diffs.push_back(path + "." + it.key() + ": missing in ternctl");
      } else if (IsKeyField(it.key())) {
        if (!IsKeyText(it.value()) || !IsKeyText(b[it.key()])) {
          diffs.push_back(path + "." + it.key() + ": not a key: zbctl " + it.value().dump() +
                          " vs ternctl " + b[it.key()].dump());
        }
      } else {
        Compare(it.value(), b[it.key()], path + "." + it.key(), diffs);
      }
    }
    for (auto it = b.begin(); it != b.end(); ++it) {
      if (!a.contains(it.key())) diffs.push_back(path + "." + it.key() + ": missing in zbctl");
    }
  } else if (a.is_array()) {
    if (a.size() != b.size()) {
      diffs.push_back(path + ": " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) +
                      " elements");
      return;
    }
    for (size_t i = 0; i < a.size(); ++i) {
      Compare(a[i], b[i], path + "[" + std::to_string(i) + "]", diffs);
    }
  } else if (a != b) {
    diffs.push_back(path + ": zbctl " + a.dump() + " vs ternctl " + b.dump());
  }
}

// Keys (long digit runs) and the broker's own port replaced by placeholders.
std::string MaskKeys(const std::string& text, int port) {
  std::string masked;
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i >= 10) {
      masked += "<key>";
    } else if (j > i) {
      masked += text.substr(i, j - i);
    } else {
      masked += text[i];
      ++j;
    }
    i = j;
  }
  if (port != 0) {
    const std::string address_end = ":" + std::to_string(port) + "\n";
    for (size_t pos; (pos = masked.find(address_end)) != std::string::npos;) {
      masked.replace(pos, address_end.size(), ":<port>\n");
    }
  }
  return masked;
}

std::string TrimLine(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// "Error: rpc error: code = NotFound desc = msg" -> {"NOT_FOUND", "msg"}.
std::pair<std::string, std::string> ZbctlError(const std::string& err) {
  auto code_at = err.find("code = ");
  auto desc_at = err.find(" desc = ");
  if (code_at == std::string::npos || desc_at == std::string::npos) return {"?", err};
  std::string code;
  for (char c : err.substr(code_at + 7, desc_at - code_at - 7)) {
    if (std::isupper(static_cast<unsigned char>(c)) && !code.empty()) code += '_';
    code += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return {code, TrimLine(err.substr(desc_at + 8))};
}

// "ternctl: NOT_FOUND: msg" -> {"NOT_FOUND", "msg"}.
std::pair<std::string, std::string> TernctlError(const std::string& err) {
  const std::string prefix = "ternctl: ";
  if (err.rfind(prefix, 0) != 0) return {"?", err};
  auto colon = err.find(": ", prefix.size());
  if (colon == std::string::npos) return {"?", err};
  return {err.substr(prefix.size(), colon - prefix.size()), TrimLine(err.substr(colon + 2))};
}

class Tool {
 public:
  Tool(std::string name, std::vector<std::string> prefix, const BrokerProcess& broker,
       const std::string& cwd)
      : name_(std::move(name)), prefix_(std::move(prefix)), broker_(broker), cwd_(cwd) {}

  ProcessResult Run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = prefix_;
    argv.insert(argv.end(), args.begin(), args.end());
    // zbctl looks for an OAuth credentials cache under $HOME; give it an empty one.
    return RunProcess(argv, "", {{"HOME", cwd_}, {"ZEEBE_ADDRESS", broker_.address()}}, cwd_);
  }
  const std::string& name() const { return name_; }
  int port() const { return broker_.cluster_port(); }

 private:
  std::string name_;
  std::vector<std::string> prefix_;
  const BrokerProcess& broker_;
  std::string cwd_;
};

class ZbctlCompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(ZBCTL_BIN, X_OK) != 0) GTEST_SKIP() << "zbctl not installed at " << ZBCTL_BIN;
    zbctl_broker_.Start();
    ternctl_broker_.Start();
    for (const auto* dir : {&zbctl_dir_, &ternctl_dir_}) {
      testing::WriteFile(dir->File("order.bpmn"), OneTaskProcess("order", "pack"));
      testing::WriteFile(dir->File("ship.bpmn"), OneTaskProcess("ship", "carry", 5));
      testing::WriteFile(dir->File("empty.bpmn"), R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="empty" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f" sourceRef="start" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
)");
    }
    zbctl_ = std::make_unique<Tool>(
        "zbctl",
        std::vector<std::string>{ZBCTL_BIN, "--insecure", "--address", zbctl_broker_.address()},
        zbctl_broker_, zbctl_dir_.path());
    ternctl_ = std::make_unique<Tool>(
        "ternctl", std::vector<std::string>{TERNCTL_BIN, "--address", ternctl_broker_.address()},
        ternctl_broker_, ternctl_dir_.path());
  }

  // Runs the command with both tools and compares. `args` may contain "{name}" placeholders,
  // replaced by each tool's own earlier values (keys differ between the brokers).
  struct Answers {
    nlohmann::json zbctl;
    nlohmann::json ternctl;
  };
  Answers Both(const std::vector<std::string>& args) {
    auto expand = [&](const std::map<std::string, std::string>& values) {
      std::vector<std::string> out;
      for (auto arg : args) {
        for (const auto& [name, value] : values) {
          auto pos = arg.find("{" + name + "}");
          if (pos != std::string::npos) arg.replace(pos, name.size() + 2, value);
        }
        out.push_back(arg);
      }
      return out;
    };
    std::string command;
    for (const auto& a : args) command += a + " ";
    ++commands_;
    auto a = zbctl_->Run(expand(zbctl_values_));
    auto b = ternctl_->Run(expand(ternctl_values_));
    Answers answers;
    SCOPED_TRACE(command);
    if (a.exit_code != 0 || b.exit_code != 0) {
      EXPECT_NE(a.exit_code, 0) << "only ternctl failed: " << b.err;
      EXPECT_NE(b.exit_code, 0) << "only zbctl failed: " << a.err;
      auto [zcode, zmessage] = ZbctlError(a.err);
      auto [tcode, tmessage] = TernctlError(b.err);
      EXPECT_EQ(zcode, tcode) << a.err << b.err;
      EXPECT_EQ(MaskKeys(zmessage, 0), MaskKeys(tmessage, 0));
      EXPECT_EQ(std::count(b.err.begin(), b.err.end(), '\n'), 1) << b.err;
      return answers;
    }
    auto ja = nlohmann::json::parse(a.out, nullptr, false);
    auto jb = nlohmann::json::parse(b.out, nullptr, false);
    if (ja.is_discarded() || jb.is_discarded()) {
      EXPECT_FALSE(!ja.is_discarded() || !jb.is_discarded())
          << "one answer is JSON, the other is not:\n"
          << a.out << "\n"
          << b.out;
      EXPECT_EQ(MaskKeys(a.out, zbctl_->port()), MaskKeys(b.out, ternctl_->port()));
      return answers;
    }
    std::vector<std::string> diffs;
    Compare(ja, jb, "", diffs);
    for (const auto& d : diffs) ADD_FAILURE() << d;
    ++compared_fields_;
    answers.zbctl = ja;
    answers.ternctl = jb;
    return answers;
  }

  void Remember(const std::string& name, const Answers& answers,
                const nlohmann::json::json_pointer& at) {
    ASSERT_TRUE(answers.zbctl.contains(at) && answers.ternctl.contains(at)) << name;
    zbctl_values_[name] = answers.zbctl[at].get<std::string>();
    ternctl_values_[name] = answers.ternctl[at].get<std::string>();
  }

  BrokerProcess zbctl_broker_;
  BrokerProcess ternctl_broker_;
  TempDir zbctl_dir_;
  TempDir ternctl_dir_;
  std::unique_ptr<Tool> zbctl_;
  std::unique_ptr<Tool> ternctl_;
  std::map<std::string, std::string> zbctl_values_;
  std::map<std::string, std::string> ternctl_values_;
  int commands_ = 0;
  int compared_fields_ = 0;
};

TEST_F(ZbctlCompareTest, SameAnswersForTheSameCommands) {
  using Ptr = nlohmann::json::json_pointer;
  Both({"status"});
  Both({"deploy", "order.bpmn"});
  Both({"deploy", "resource", "ship.bpmn", "empty.bpmn"});
  Both({"deploy", "resource", "order.bpmn"});  // unchanged: same definition key and version

  auto created = Both({"create", "instance", "order", "--variables", R"({"item":"book","n":2})"});
  Remember("order", created, Ptr("/processInstanceKey"));
  Both({"create", "instance", "order", "--version", "1"});
  Both({"create", "instance", "empty", "--withResult", "--variables", R"({"z":"q","w":[1,2]})"});
  Both({"create", "instance", "empty", "--withResult=w", "--variables", R"({"z":"q","w":[1,2]})"});
  Both({"create", "instance", "no-such-process"});
  Both({"create", "instance", "order", "--version", "7"});

  auto jobs = Both({"activate", "jobs", "pack", "--maxJobsToActivate", "1", "--worker", "cmp"});
  Remember("job", jobs, Ptr("/jobs/0/key"));
  Both({"activate", "jobs", "pack", "--maxJobsToActivate", "5", "--worker", "cmp", "--variables",
        "item"});
  Both({"fail", "job", "{job}", "--retries", "2", "--errorMessage", "boom"});
  Both({"fail", "job", "{job}", "--retries", "1", "--retryBackoff", "1m30s"});
  Both({"update", "retries", "{job}", "--retries", "4"});
  Both({"update", "retries", "{job}", "--retries", "0"});

  Both({"create", "instance", "ship"});
  auto carry = Both({"activate", "jobs", "carry", "--worker", "cmp", "--timeout", "10m"});
  Remember("carry", carry, Ptr("/jobs/0/key"));
  Remember("ship", carry, Ptr("/jobs/0/processInstanceKey"));
  Both({"update", "timeout", "{carry}", "--timeout", "120000"});
  Both({"set", "variables", "{ship}", "--variables", R"({"b":2})"});
  Both({"set", "variables", "{ship}", "--variables", R"({"c":3})", "--local"});
  Both({"complete", "job", "{carry}", "--variables", R"({"done":true})"});
  Both({"complete", "job", "{carry}"});
  Both({"throwError", "job", "{carry}", "--errorCode", "E1"});

  Both({"create", "instance", "ship"});
  auto second = Both({"activate", "jobs", "carry", "--worker", "cmp"});
  Remember("carry2", second, Ptr("/jobs/0/key"));
  Remember("ship2", second, Ptr("/jobs/0/processInstanceKey"));
  Both({"throwError", "job", "{carry2}", "--errorCode", "NO_TRUCK", "--errorMessage", "later"});
  Both({"complete", "job", "{carry2}"});

  Both({"cancel", "instance", "{order}"});
  Both({"cancel", "instance", "{order}"});
  Both({"set", "variables", "{order}", "--variables", R"({"b":2})"});
  Both({"resolve", "incident", "{order}"});
  // RPCs the broker does not implement yet: both tools must report the same error (or, once
  // implemented, the same answer).
  Both({"publish", "message", "paid", "--correlationKey", "c-1", "--variables", R"({"x":1})"});
  Both({"broadcast", "signal", "alarm"});
  Both({"evaluate", "decision", "credit"});
  Both({"delete", "resource", "{order}"});

  EXPECT_GE(commands_, 35);
  EXPECT_GE(compared_fields_, 10);  // that many answers were JSON compared field by field
}

}  // namespace
}  // namespace tern
