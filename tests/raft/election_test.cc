// Elections, pre-vote, check-quorum and the leader lease. Named after the MIT 6.824 tests and the
// reliability plan's scenarios (R3-R6, R12).

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "cluster.h"

namespace tern::raft::testing {
namespace {

// Ticks everyone until some leader appears (bounded), stabilizing after each tick.
uint64_t ElectSomeone(Cluster& c, int max_ticks = 200) {
  for (int i = 0; i < max_ticks; ++i) {
    c.TickAll();
    c.Stabilize();
    if (uint64_t l = c.LeaderOrZero()) return l;
  }
  return 0;
}

TEST(Election, TestInitialElection) {
  Cluster c({1, 2, 3});
  uint64_t leader = ElectSomeone(c);
  ASSERT_NE(leader, 0u);
  EXPECT_EQ(c.Leaders().size(), 1u);
  uint64_t term = c.raft(leader).term();
  // Every member agrees on the leader and the term.
  for (uint64_t id : c.ids()) {
    EXPECT_EQ(c.raft(id).lead(), leader);
    EXPECT_EQ(c.raft(id).term(), term);
  }
  // Without failures the term stays the same.
  for (int i = 0; i < 100; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_EQ(c.raft(leader).term(), term);
  EXPECT_EQ(c.LeaderOrZero(), leader);
}

TEST(Election, TestReElection) {
  Cluster c({1, 2, 3});
  uint64_t l1 = ElectSomeone(c);
  ASSERT_NE(l1, 0u);
  // The leader disconnects: a new one is elected among the others.
  c.Isolate(l1);
  uint64_t l2 = 0;
  for (int i = 0; i < 200 && l2 == 0; ++i) {
    c.TickAll();
    c.Stabilize();
    for (uint64_t id : c.Leaders()) {
      if (id != l1) l2 = id;
    }
  }
  ASSERT_NE(l2, 0u);
  EXPECT_GT(c.raft(l2).term(), c.raft(l1).term());
  // The isolated old leader steps down through check-quorum within an election timeout.
  for (int i = 0; i < 10; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_NE(c.raft(l1).role(), StateRole::kLeader);
  // It rejoins without disturbing the new leader (pre-vote kept its term unchanged).
  c.Heal();
  for (int i = 0; i < 50; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_EQ(c.LeaderOrZero(), l2);
  EXPECT_EQ(c.raft(l1).lead(), l2);
  // No quorum: no leader.
  uint64_t other = 6 - l2 - l1;
  c.Isolate(l2);
  c.Isolate(other);
  for (int i = 0; i < 200; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_TRUE(c.Leaders().empty());
  // A quorum again: a leader again.
  c.Heal();
  c.Isolate(l2);
  EXPECT_NE(ElectSomeone(c), 0u);
}

TEST(Election, TestManyElections) {
  Cluster c({1, 2, 3, 4, 5, 6, 7});
  ASSERT_NE(ElectSomeone(c), 0u);
  uint64_t seed = 17;
  for (int iter = 0; iter < 10; ++iter) {
    c.Heal();
    // Disconnect three random members; the four others must (still or again) have a leader.
    std::set<uint64_t> cut;
    while (cut.size() < 3) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      cut.insert(1 + (seed >> 33) % 7);
    }
    for (uint64_t id : cut) c.Isolate(id);
    uint64_t leader = 0;
    for (int i = 0; i < 300 && leader == 0; ++i) {
      c.TickAll();
      c.Stabilize();
      for (uint64_t id : c.Leaders()) {
        if (!cut.count(id)) leader = id;
      }
    }
    EXPECT_NE(leader, 0u) << "iteration " << iter;
  }
}

TEST(Election, VotesForAtMostOneCandidatePerTerm) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.pre_vote = false; });
  // 1 and 2 campaign in the same term; 3 gets both requests.
  c.Campaign(1);
  c.Campaign(2);
  c.ProcessAllReadies();
  ASSERT_EQ(c.raft(1).term(), 1u);
  ASSERT_EQ(c.raft(2).term(), 1u);
  // Deliver 1's request to 3 first.
  std::stable_sort(c.queue().begin(), c.queue().end(),
                   [](const Message& a, const Message& b) { return a.from() < b.from(); });
  c.Stabilize();
  EXPECT_EQ(c.raft(3).vote(), 1u);
  EXPECT_EQ(c.LeaderOrZero(), 1u);
  EXPECT_EQ(c.Leaders().size(), 1u);
}

TEST(Election, CandidateWithStaleLogLoses) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  ASSERT_EQ(c.LeaderOrZero(), 1u);
  c.Isolate(3);
  ASSERT_TRUE(c.Propose(1, "a").ok());
  c.Stabilize();
  c.Heal();
  // 3 lacks "a": 1 and 2 refuse to vote for it (Raft §5.4.1 election restriction).
  c.Isolate(1);
  c.Campaign(3);
  c.Stabilize();
  EXPECT_NE(c.raft(3).role(), StateRole::kLeader);
  c.Campaign(2);
  c.Stabilize();
  EXPECT_EQ(c.raft(2).role(), StateRole::kLeader);
}

// R3: a partitioned member that rejoins must not depose a healthy leader.
TEST(PreVote, PartitionedMemberDoesNotInflateTerm) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  uint64_t term = c.raft(1).term();
  c.Isolate(3);
  for (int i = 0; i < 100; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  // 3 kept campaigning in pre-elections only: its term did not move.
  EXPECT_EQ(c.raft(3).term(), term);
  c.Heal();
  for (int i = 0; i < 30; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_EQ(c.LeaderOrZero(), 1u);
  EXPECT_EQ(c.raft(1).term(), term);
}

TEST(PreVote, WithoutPreVoteRejoiningMemberDisruptsLeader) {
  // The contrast case: without pre-vote (and check-quorum), the rejoining member's inflated
  // term forces the leader to step down. This is what pre-vote prevents.
  Cluster c({1, 2, 3}, [](Config& cfg) {
    cfg.pre_vote = false;
    cfg.check_quorum = false;
  });
  c.Campaign(1);
  c.Stabilize();
  uint64_t term = c.raft(1).term();
  c.Isolate(3);
  for (int i = 0; i < 100; ++i) {
    c.Tick(3);
    c.Stabilize();
  }
  EXPECT_GT(c.raft(3).term(), term);
  c.Heal();
  c.Campaign(3);
  c.Stabilize();
  EXPECT_GT(c.raft(1).term(), term);
}

// R4: a follower that heard from the leader recently rejects pre-votes (lease not expired).
TEST(CheckQuorum, FollowerInLeaseIgnoresVotes) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  uint64_t term = c.raft(1).term();
  // 3 is cut off from 1 only (partial connectivity, R6): it times out and campaigns, but 2
  // still hears from 1 and ignores 3.
  c.Cut(1, 3);
  for (int i = 0; i < 100; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_EQ(c.LeaderOrZero(), 1u);
  EXPECT_EQ(c.raft(1).term(), term);
  EXPECT_EQ(c.raft(2).term(), term);
}

// R5: an isolated leader steps down after an election timeout without a quorum.
TEST(CheckQuorum, IsolatedLeaderStepsDown) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  c.Isolate(1);
  // The randomized timeout does not matter for the leader: it checks every election_ticks.
  for (int i = 0; i < 2 * 10 + 1; ++i) {
    c.Tick(1);
    c.ProcessAllReadies();
  }
  EXPECT_EQ(c.raft(1).role(), StateRole::kFollower);
  EXPECT_EQ(c.raft(1).lead(), kNone);
}

TEST(CheckQuorum, LeaderWithQuorumStaysLeader) {
  Cluster c({1, 2, 3, 4, 5});
  c.Campaign(1);
  c.Stabilize();
  c.Isolate(4);
  c.Isolate(5);
  for (int i = 0; i < 100; ++i) {
    c.Tick(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.raft(1).role(), StateRole::kLeader);
}

// R6: partial connectivity (A-B cut, both see C) must not livelock elections.
TEST(Election, PartialConnectivityKeepsStableLeader) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  c.Cut(1, 2);
  for (int i = 0; i < 300; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  // Some member leads, and the number of leader changes in the last stretch is zero.
  uint64_t leader = c.LeaderOrZero();
  ASSERT_NE(leader, 0u);
  uint64_t term = c.raft(leader).term();
  for (int i = 0; i < 300; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_EQ(c.LeaderOrZero(), leader);
  EXPECT_EQ(c.raft(leader).term(), term);
}

TEST(Election, RandomizedTimeoutInRange) {
  MemoryStorage storage({1, 2, 3});
  Config cfg;
  cfg.id = 1;
  cfg.voters = {1, 2, 3};
  cfg.election_ticks = 10;
  std::set<int> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    cfg.seed = seed;
    RawNode n(cfg, &storage);
    int t = n.raft().randomized_election_timeout();
    EXPECT_GE(t, 10);
    EXPECT_LT(t, 20);
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 5u);  // actually randomized
}

// R12: a member that lost all its data must not vote until it has caught up.
TEST(DataLoss, RestartWithTotalDataLossDoesNotVoteTwice) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.pre_vote = false; });
  // 3 votes for 2 in term 1; 2's votes to 1 are lost, 2 never learns it won.
  c.Isolate(1);
  c.Campaign(2);
  c.ProcessAllReadies();
  c.Drop([](const Message& m) { return m.type() == MSG_VOTE_RESP; });
  c.Stabilize();
  ASSERT_EQ(c.raft(3).vote(), 2u);
  ASSERT_EQ(c.raft(3).term(), 1u);
  // 3 loses everything and restarts.
  c.Crash(3);
  c.Restart(3, /*data_loss=*/true);
  EXPECT_TRUE(c.raw(3).Status().recovering_from_data_loss);
  // 1 campaigns in term 1 as well (it never heard of term 1): 3 must refuse.
  c.Heal();
  c.Isolate(2);
  c.Campaign(1);
  c.Stabilize();
  EXPECT_NE(c.raft(1).role(), StateRole::kLeader);
  EXPECT_EQ(c.raft(3).vote(), kNone);
  // Nor does it campaign itself.
  for (int i = 0; i < 100; ++i) {
    c.Tick(3);
    c.Stabilize();
  }
  EXPECT_NE(c.raft(3).role(), StateRole::kLeader);
  // Once a leader exists and 3 caught up, it votes again in later terms.
  c.Heal();
  uint64_t leader = 0;
  for (int i = 0; i < 300 && leader == 0; ++i) {
    c.Tick(1);
    c.Tick(2);
    c.Stabilize();
    leader = c.LeaderOrZero();
  }
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(c.Propose(leader, "x").ok());
  c.Stabilize();
  EXPECT_FALSE(c.raw(3).Status().recovering_from_data_loss);
  EXPECT_EQ(c.AppliedData(3), std::vector<std::string>{"x"});
}

TEST(DataLoss, LeaderResetsProgressOfWipedFollower) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("e", i)).ok());
  c.Stabilize();
  c.Crash(3);
  c.Restart(3, /*data_loss=*/true);
  // Heartbeats would ask 3 to commit what it lost; it must not abort, and must get it back.
  for (int i = 0; i < 5; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_EQ(c.raw(3).Status().commit, c.raw(1).Status().commit);
  EXPECT_EQ(c.AppliedData(3), c.AppliedData(1));
  EXPECT_FALSE(c.raw(3).Status().recovering_from_data_loss);
}

// R8: a follower whose persisted entries vanished (fsync lie) must never silently accept a
// commit index beyond its log. It used to abort; but the commit index comes from a peer, and
// nothing a peer sends may crash a member (issue 12: a wiped replica aborted on every restart).
// It now treats this as data loss: it commits nothing it lacks, stops voting, and tells the
// leader to start over with it (tests/raft/rebuild_test.cc covers the wiped-disk variants).
TEST(DataLoss, CommitIndexBeyondLogStartsRecoveryInsteadOfAborting) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  ASSERT_TRUE(c.Propose(1, "a").ok());
  c.Stabilize();
  // 3's disk "lied": the entries are gone, but it restarts believing nothing was lost.
  c.Crash(3);
  TestNode& n3 = c.node(3);
  HardState hs = n3.storage->hard_state();
  hs.set_commit(0);
  n3.storage = std::make_unique<MemoryStorage>(c.ids());
  n3.storage->SetHardState(hs);
  n3.applied.clear();
  n3.applied_data.clear();
  c.Restart(3);
  // The first heartbeat asks 3 to commit what it no longer has.
  c.Tick(1);
  c.ProcessAllReadies();
  c.DeliverOnce();
  EXPECT_TRUE(c.raw(3).Status().recovering_from_data_loss);
  EXPECT_EQ(c.raw(3).Status().commit, 0u);
  for (int i = 0; i < 10; ++i) {
    c.TickAll();
    c.Stabilize();
  }
  EXPECT_FALSE(c.raw(3).Status().recovering_from_data_loss);
  EXPECT_EQ(c.AppliedData(3), std::vector<std::string>{"a"});
}

TEST(Vote, RejectsVoteFromCandidateInOlderTerm) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  Message m;
  m.set_type(MSG_VOTE);
  m.set_from(3);
  m.set_to(2);
  m.set_term(c.raft(2).term() - 0);  // same term, 2 already knows a leader
  m.set_index(100);
  m.set_log_term(100);
  c.queue().clear();
  ASSERT_TRUE(c.raw(2).Step(m).ok());
  c.ProcessAllReadies();
  bool rejected = false;
  for (const Message& r : c.queue()) {
    if (r.type() == MSG_VOTE_RESP && r.to() == 3) rejected = r.reject();
  }
  EXPECT_TRUE(rejected);
  EXPECT_EQ(c.raft(2).vote(), 1u);
}

}  // namespace
}  // namespace tern::raft::testing
