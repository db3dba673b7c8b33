// Replica rebuild (issue 12): a member whose log was wiped or lost entries it had acknowledged
// rejoins a running group through snapshot and log transfer, whatever the leader remembers
// about it, and nothing a peer sends makes it abort.
//
// The broker cannot tell a replaced disk from a first start (nothing on the new disk says the
// group existed), so these tests restart members with empty storage and the default Config,
// as the broker does; `Cluster::Restart(id, true)` (the explicit recovery marker) is covered in
// election_test.cc.

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "cluster.h"
#include "raft/invariants.h"

namespace tern::raft::testing {
namespace {

// Replicates `n` entries from leader 1 to everyone.
void Fill(Cluster& c, int n) {
  for (int i = 0; i < n; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("e", i)).ok());
  c.Stabilize();
}

// Runs heartbeat rounds until `id` is no longer recovering and has applied what the leader
// applied, at most `rounds` times.
void CatchUp(Cluster& c, uint64_t id, int rounds = 20) {
  for (int i = 0; i < rounds; ++i) {
    c.Tick(1);
    c.Stabilize();
    if (!c.raw(id).Status().recovering_from_data_loss &&
        c.raw(id).Status().applied == c.raw(1).Status().applied) {
      return;
    }
  }
}

// The reported abort: `raft_log.cc commit index regression: to_commit N ... last index 0`. The
// leader's heartbeat carries min(remembered match, commit), which a wiped member does not have.
TEST(Rebuild, WipedFollowerRejoinsAlthoughTheLeaderRemembersItsMatch) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  Fill(c, 40);
  ASSERT_EQ(c.raw(1).Status().progress.size(), 3u);
  c.Crash(3);
  c.RestartWiped(3);
  ASSERT_EQ(c.raw(3).Status().last_index, 0u);
  CatchUp(c, 3);
  NodeStatus s3 = c.raw(3).Status();
  EXPECT_FALSE(s3.recovering_from_data_loss);
  EXPECT_EQ(s3.commit, c.raw(1).Status().commit);
  EXPECT_EQ(c.AppliedData(3), c.AppliedData(1));
  EXPECT_TRUE(CheckInvariants(c.raw(3)).ok());
  // And it takes part in replication again.
  ASSERT_TRUE(c.Propose(1, "after").ok());
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(3).back(), "after");
}

// The same when the leader has compacted its log: the wiped member gets a snapshot.
TEST(Rebuild, WipedFollowerRejoinsThroughASnapshot) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  Fill(c, 30);
  c.SnapshotAndCompact(1);
  c.SnapshotAndCompact(2);
  c.Crash(3);
  c.RestartWiped(3);
  CatchUp(c, 3);
  EXPECT_FALSE(c.raw(3).Status().recovering_from_data_loss);
  EXPECT_GT(c.node(3).applied_snapshot.index(), 0u);
  EXPECT_EQ(c.AppliedData(3), c.AppliedData(1));
}

// Once the leader's heartbeat told a wiped member that it lacks entries it had acknowledged, it
// must not help elect a candidate that lacks entries committed with its old copy in the
// majority, even if that leader dies before catching it up.
TEST(Rebuild, WipedMemberDoesNotVoteOnceItKnowsItLostData) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.pre_vote = false; });
  c.Campaign(1);
  c.Stabilize();
  // "x" is committed by 1 and 3 only.
  c.Cut(1, 2);
  ASSERT_TRUE(c.Propose(1, "x").ok());
  c.Stabilize();
  ASSERT_EQ(c.AppliedData(1), std::vector<std::string>{"x"});
  ASSERT_TRUE(c.AppliedData(2).empty());
  // 3's disk is replaced; one heartbeat of 1 reaches it, then 1 goes down.
  c.Crash(3);
  c.RestartWiped(3);
  c.Tick(1);
  c.ProcessAllReadies();
  c.DeliverOnce();
  c.Crash(1);
  ASSERT_TRUE(c.raw(3).Status().recovering_from_data_loss);
  // 2 lacks "x" and must not win with 3's vote.
  c.Heal();
  c.Campaign(2);
  c.Stabilize();
  EXPECT_NE(c.raft(2).role(), StateRole::kLeader);
  EXPECT_EQ(c.raft(3).vote(), kNone);
  // 1 returns; it (or 2, once caught up) leads, and "x" survives everywhere.
  c.Restart(1);
  uint64_t leader = 0;
  for (int i = 0; i < 300 && leader == 0; ++i) {
    c.TickAll();
    c.Stabilize();
    leader = c.LeaderOrZero();
  }
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(c.Propose(leader, "y").ok());
  c.Stabilize();
  for (uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(c.AppliedData(id), (std::vector<std::string>{"x", "y"})) << "member " << id;
  }
}

// A group's first election: every log is empty, and empty members vote normally. (So does a
// wiped member before it hears from the group: it cannot tell that it lost data. The
// disk-replacement procedure in docs/cluster.md asks for a healthy group for that reason.)
TEST(Rebuild, BlankMembersStillElectTheFirstLeader) {
  Cluster c({1, 2, 3});
  c.Campaign(2);
  c.Stabilize();
  EXPECT_EQ(c.LeaderOrZero(), 2u);
  for (uint64_t id : {1, 2, 3}) EXPECT_FALSE(c.raw(id).Status().recovering_from_data_loss);
}

// When heartbeats do not reach the wiped member (they are lost), its rejection hint alone must
// make the leader forget the match it remembers: progress never stays above the member's log.
TEST(Rebuild, RejectionHintBelowMatchResetsTheLeadersProgress) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  Fill(c, 10);
  // 3 loses the tail it acknowledged but keeps term and vote, so it does not know.
  c.Crash(3);
  TestNode& n3 = c.node(3);
  HardState hs = n3.storage->hard_state();
  std::vector<Entry> kept = *n3.storage->Entries(1, 4, UINT64_MAX);
  hs.set_commit(3);
  n3.storage = std::make_unique<MemoryStorage>(c.ids());
  n3.storage->Append(kept);
  n3.storage->SetHardState(hs);
  n3.applied.resize(3);
  n3.applied_data.resize(2);
  c.Restart(3);
  c.Drop([](const Message& m) { return m.type() == MSG_HEARTBEAT; });
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.Propose(1, absl::StrCat("more", i)).ok());
    c.Stabilize();
  }
  EXPECT_EQ(c.raw(3).Status().last_index, c.raw(1).Status().last_index);
  EXPECT_EQ(c.AppliedData(3), c.AppliedData(1));
}

// Malformed appends (gaps, entries from a future term) are dropped, never applied or aborted on.
TEST(Rebuild, MalformedAppendIsIgnored) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  Fill(c, 3);
  uint64_t term = c.raft(2).term();
  uint64_t last = c.raw(2).Status().last_index;
  Message m;
  m.set_type(MSG_APP);
  m.set_from(1);
  m.set_to(2);
  m.set_term(term);
  m.set_index(last);
  m.set_log_term(term);
  m.set_commit(last + 5);
  Entry* gap = m.add_entries();
  gap->set_index(last + 3);  // should be last + 1
  gap->set_term(term);
  ASSERT_TRUE(c.raw(2).Step(m).ok());
  m.mutable_entries(0)->set_index(last + 1);
  m.mutable_entries(0)->set_term(term + 7);  // beyond the sender's term
  ASSERT_TRUE(c.raw(2).Step(m).ok());
  c.ProcessAllReadies();
  EXPECT_EQ(c.raw(2).Status().last_index, last);
  EXPECT_TRUE(CheckInvariants(c.raw(2)).ok());
}

}  // namespace
}  // namespace tern::raft::testing
