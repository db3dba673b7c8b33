// Golden-file interaction tests (practice P4, after etcd-io/raft's interaction_test.go): each
// file in testdata/ is a script of commands, each followed by "----" and the exact output it
// must produce (Readies, messages, logs), ended by a blank line. Behaviour changes show up as
// text diffs a reviewer can read.
//
// Regenerate after an intended change (and read the diff before committing it):
//   TERN_REWRITE=1 tern_raft_test --gtest_filter='Interaction*'
//
// Commands (arguments key=value unless noted):
//   add-nodes N [pre-vote=true] [check-quorum=true] [max-size=BYTES] [max-inflight=N]
//   campaign ID              propose ID DATA          tick ID [N]
//   process-ready [ID...]    deliver-msgs [ID...] [drop=true]
//   stabilize                status ID                raft-log ID
//   transfer-leadership FROM TO                       report-unreachable FROM TO
//   compact ID INDEX

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/check.h"
#include "raft/raw_node.h"

namespace tern::raft {
namespace {

std::string EntryString(const Entry& e) {
  std::string s = absl::StrCat(e.term(), "/", e.index());
  switch (e.type()) {
    case ENTRY_EMPTY:
      return s + " Empty";
    case ENTRY_CONF_CHANGE:
      return s + " ConfChange";
    default:
      return absl::StrCat(s, " Normal \"", e.data(), "\"");
  }
}

std::string ShortType(MessageType t) {
  absl::string_view n = MessageType_Name(t);
  absl::ConsumePrefix(&n, "MSG_");
  return std::string(n);
}

std::string MessageString(const Message& m) {
  std::string s = absl::StrCat(m.from(), "->", m.to(), " ", ShortType(m.type()), " Term:", m.term(),
                               " Log:", m.log_term(), "/", m.index());
  if (m.commit() != 0) absl::StrAppend(&s, " Commit:", m.commit());
  if (m.reject()) absl::StrAppend(&s, " Rejected (Hint: ", m.reject_hint(), ")");
  if (m.lost_data()) absl::StrAppend(&s, " LostData");
  if (m.has_snapshot()) {
    absl::StrAppend(&s, " Snapshot: Index:", m.snapshot().index(), " Term:", m.snapshot().term());
  }
  if (!m.entries().empty()) {
    std::vector<std::string> es;
    for (const Entry& e : m.entries()) es.push_back(EntryString(e));
    absl::StrAppend(&s, " Entries:[", absl::StrJoin(es, ", "), "]");
  }
  return s;
}

struct Env {
  std::vector<uint64_t> ids;
  std::map<uint64_t, std::unique_ptr<MemoryStorage>> storages;
  std::map<uint64_t, std::unique_ptr<RawNode>> nodes;
  std::deque<Message> queue;

  void ProcessReady(uint64_t id, std::string* out) {
    RawNode& n = *nodes.at(id);
    if (!n.HasReady()) return;
    Ready rd = n.GetReady();
    MemoryStorage& st = *storages.at(id);
    absl::StrAppend(out, "> ", id, " handling Ready\n");
    if (rd.soft_state) {
      absl::StrAppend(out, "  Lead:", rd.soft_state->lead, " State:", RoleName(rd.soft_state->role),
                      "\n");
    }
    if (rd.hard_state) {
      absl::StrAppend(out, "  HardState Term:", rd.hard_state->term(),
                      " Vote:", rd.hard_state->vote(), " Commit:", rd.hard_state->commit(), "\n");
    }
    if (!rd.entries.empty()) {
      absl::StrAppend(out, "  Entries:\n");
      for (const Entry& e : rd.entries) absl::StrAppend(out, "  ", EntryString(e), "\n");
    }
    if (rd.snapshot) {
      absl::StrAppend(out, "  Snapshot Index:", rd.snapshot->index(), " Term:", rd.snapshot->term(),
                      "\n");
      (void)st.ApplySnapshot(*rd.snapshot);
    }
    if (!rd.committed_entries.empty()) {
      absl::StrAppend(out, "  CommittedEntries:\n");
      for (const Entry& e : rd.committed_entries) absl::StrAppend(out, "  ", EntryString(e), "\n");
    }
    if (!rd.messages.empty()) {
      absl::StrAppend(out, "  Messages:\n");
      for (const Message& m : rd.messages) absl::StrAppend(out, "  ", MessageString(m), "\n");
    }
    if (rd.must_sync) absl::StrAppend(out, "  MustSync\n");
    st.Append(rd.entries);
    if (rd.hard_state) st.SetHardState(*rd.hard_state);
    for (Message& m : rd.messages) queue.push_back(std::move(m));
    n.Advance(rd);
  }

  int Deliver(const std::set<uint64_t>& to, bool drop, std::string* out) {
    std::deque<Message> keep;
    int n = 0;
    for (Message& m : queue) {
      if (!to.empty() && !to.count(m.to())) {
        keep.push_back(std::move(m));
        continue;
      }
      ++n;
      if (drop) {
        absl::StrAppend(out, "dropped: ", MessageString(m), "\n");
        continue;
      }
      absl::StrAppend(out, MessageString(m), "\n");
      absl::Status s = nodes.at(m.to())->Step(m);
      if (!s.ok()) absl::StrAppend(out, "  step error: ", s.message(), "\n");
    }
    queue.swap(keep);
    return n;
  }
};

class Runner {
 public:
  std::string Run(const std::string& cmd, const std::vector<std::string>& args) {
    std::map<std::string, std::string> kv;
    std::vector<uint64_t> nums;
    std::vector<std::string> words;
    for (const std::string& a : args) {
      std::vector<std::string> p = absl::StrSplit(a, absl::MaxSplits('=', 1));
      uint64_t v;
      if (p.size() == 2) {
        kv[p[0]] = p[1];
      } else if (absl::SimpleAtoi(a, &v)) {
        nums.push_back(v);
      } else {
        words.push_back(a);
      }
    }
    auto arg = [&](size_t i) -> uint64_t { return i < nums.size() ? nums[i] : 0; };
    std::string out;
    if (cmd == "add-nodes") {
      for (uint64_t i = 1; i <= arg(0); ++i) env_.ids.push_back(i);
      for (uint64_t id : env_.ids) {
        Config c;
        c.id = id;
        c.voters = env_.ids;
        c.seed = 1;
        c.pre_vote = kv.count("pre-vote") ? kv["pre-vote"] == "true" : true;
        c.check_quorum = kv.count("check-quorum") ? kv["check-quorum"] == "true" : true;
        if (kv.count("max-size")) c.max_size_per_msg = std::stoull(kv["max-size"]);
        if (kv.count("max-inflight")) c.max_inflight_msgs = std::stoull(kv["max-inflight"]);
        env_.storages[id] = std::make_unique<MemoryStorage>(env_.ids);
        env_.nodes[id] = std::make_unique<RawNode>(c, env_.storages[id].get());
        // Pinned, so scripts do not depend on the random draw.
        env_.nodes[id]->raft().set_randomized_election_timeout(10 + static_cast<int>(id));
      }
      return "ok\n";
    }
    if (cmd == "campaign") {
      env_.nodes.at(arg(0))->Campaign();
      return "ok\n";
    }
    if (cmd == "propose") {
      absl::StatusOr<EntryId> r = env_.nodes.at(arg(0))->Propose(words.empty() ? "" : words[0]);
      if (!r.ok()) return absl::StrCat("error: ", r.status().message(), "\n");
      return absl::StrCat("ok ", r->term, "/", r->index, "\n");
    }
    if (cmd == "tick") {
      uint64_t n = nums.size() > 1 ? arg(1) : 1;
      for (uint64_t i = 0; i < n; ++i) env_.nodes.at(arg(0))->Tick();
      return "ok\n";
    }
    if (cmd == "process-ready") {
      std::vector<uint64_t> ids = nums.empty() ? env_.ids : nums;
      for (uint64_t id : ids) env_.ProcessReady(id, &out);
      return out.empty() ? "no Ready\n" : out;
    }
    if (cmd == "deliver-msgs") {
      std::set<uint64_t> to(nums.begin(), nums.end());
      int n = env_.Deliver(to, kv["drop"] == "true", &out);
      return n == 0 ? "no messages\n" : out;
    }
    if (cmd == "stabilize") {
      for (int round = 0; round < 100; ++round) {
        size_t before = out.size();
        for (uint64_t id : env_.ids) env_.ProcessReady(id, &out);
        env_.Deliver({}, false, &out);
        if (out.size() == before) break;
      }
      return out.empty() ? "nothing to do\n" : out;
    }
    if (cmd == "status") {
      return env_.nodes.at(arg(0))->Status().ToString() + "\n";
    }
    if (cmd == "raft-log") {
      const RaftLog& log = env_.nodes.at(arg(0))->raft().log();
      for (const Entry& e : log.AllEntries()) absl::StrAppend(&out, EntryString(e), "\n");
      return out.empty() ? absl::StrCat("log is empty: first index=", log.FirstIndex(),
                                        ", last index=", log.LastIndex(), "\n")
                         : out;
    }
    if (cmd == "transfer-leadership") {
      absl::Status s = env_.nodes.at(arg(0))->TransferLeadership(arg(1));
      return s.ok() ? "ok\n" : absl::StrCat("error: ", s.message(), "\n");
    }
    if (cmd == "report-unreachable") {
      env_.nodes.at(arg(0))->ReportUnreachable(arg(1));
      return "ok\n";
    }
    if (cmd == "compact") {
      MemoryStorage& st = *env_.storages.at(arg(0));
      absl::StatusOr<SnapshotMetadata> s = st.CreateSnapshot(arg(1), nullptr, "");
      if (!s.ok()) return absl::StrCat("error: ", s.status().message(), "\n");
      absl::Status c = st.Compact(arg(1));
      return c.ok() ? "ok\n" : absl::StrCat("error: ", c.message(), "\n");
    }
    return absl::StrCat("unknown command ", cmd, "\n");
  }

 private:
  Env env_;
};

// Runs one script; returns the rewritten text.
std::string RunFile(const std::string& text) {
  Runner runner;
  std::istringstream in(text);
  std::string line, result;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      result += line + "\n";
      continue;
    }
    result += line + "\n";
    std::string sep;
    std::getline(in, sep);
    TERN_CHECK_OK(sep == "----" ? absl::OkStatus()
                                : absl::InvalidArgumentError("expected ---- after " + line));
    // Skip the old expected output up to the blank line.
    std::string old;
    while (std::getline(in, old) && !old.empty()) {
    }
    std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    std::string cmd = parts[0];
    parts.erase(parts.begin());
    result += "----\n" + runner.Run(cmd, parts) + "\n";
  }
  return result;
}

class Interaction : public ::testing::TestWithParam<std::string> {};

TEST_P(Interaction, MatchesGolden) {
  std::string path = std::string(TERN_RAFT_TESTDATA_DIR) + "/" + GetParam();
  std::ifstream f(path);
  ASSERT_TRUE(f.good()) << path;
  std::stringstream buf;
  buf << f.rdbuf();
  std::string want = buf.str();
  std::string got = RunFile(want);
  if (std::getenv("TERN_REWRITE") != nullptr) {
    std::ofstream(path) << got;
    return;
  }
  // Report the first differing line for a readable failure.
  std::vector<std::string> a = absl::StrSplit(want, '\n'), b = absl::StrSplit(got, '\n');
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string x = i < a.size() ? a[i] : "<eof>", y = i < b.size() ? b[i] : "<eof>";
    ASSERT_EQ(x, y) << path << ":" << i + 1 << " differs; rerun with TERN_REWRITE=1 to update";
  }
}

std::vector<std::string> Files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(TERN_RAFT_TESTDATA_DIR)) {
    if (e.path().extension() == ".txt") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Golden, Interaction, ::testing::ValuesIn(Files()), [](const auto& info) {
  std::string n = info.param.substr(0, info.param.size() - 4);
  for (char& c : n) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

}  // namespace
}  // namespace tern::raft
