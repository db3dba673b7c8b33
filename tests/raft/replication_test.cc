// Log replication, conflict resolution, the Figure 8 commit rule, persistence, flow control and
// leadership transfer. Named after the MIT 6.824 tests and the reliability plan's R1, R13.

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "cluster.h"

namespace tern::raft::testing {
namespace {

uint64_t ElectSomeone(Cluster& c) {
  for (int i = 0; i < 300; ++i) {
    c.TickAll();
    c.Stabilize();
    if (uint64_t l = c.LeaderOrZero()) return l;
  }
  return 0;
}

TEST(Replication, TestBasicAgree) {
  Cluster c({1, 2, 3, 4, 5});
  uint64_t l = ElectSomeone(c);
  ASSERT_NE(l, 0u);
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<EntryId> id = c.Propose(l, absl::StrCat("cmd", i));
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->index, static_cast<uint64_t>(i) + 2);  // after the leader's empty entry
    c.Stabilize();
    for (uint64_t n : c.ids()) EXPECT_EQ(c.AppliedData(n).size(), static_cast<size_t>(i) + 1);
  }
}

TEST(Replication, TestFailAgree) {
  Cluster c({1, 2, 3});
  uint64_t l = ElectSomeone(c);
  uint64_t f = l % 3 + 1;
  c.Isolate(f);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Propose(l, absl::StrCat("a", i)).ok());
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(l).size(), 5u);
  EXPECT_TRUE(c.AppliedData(f).empty());
  c.Heal();
  c.Settle(3);
  EXPECT_EQ(c.AppliedData(f), c.AppliedData(l));
}

TEST(Replication, TestFailNoAgree) {
  Cluster c({1, 2, 3, 4, 5});
  uint64_t l = ElectSomeone(c);
  int cut = 0;
  for (uint64_t id : c.ids()) {
    if (id != l && cut < 3) {
      c.Isolate(id);
      ++cut;
    }
  }
  absl::StatusOr<EntryId> id = c.Propose(l, "nope");
  ASSERT_TRUE(id.ok());
  c.Stabilize();
  EXPECT_LT(c.raw(l).Status().commit, id->index);
  EXPECT_TRUE(c.AppliedData(l).empty());
  c.Heal();
  c.Settle(30);
  uint64_t l2 = c.LeaderOrZero();
  ASSERT_NE(l2, 0u);
  ASSERT_TRUE(c.Propose(l2, "yes").ok());
  c.Stabilize();
  std::vector<std::string> applied = c.AppliedData(l2);
  ASSERT_FALSE(applied.empty());
  EXPECT_EQ(applied.back(), "yes");
}

TEST(Replication, TestConcurrentStarts) {
  Cluster c({1, 2, 3});
  uint64_t l = ElectSomeone(c);
  std::set<uint64_t> indexes;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<EntryId> id = c.Propose(l, absl::StrCat("c", i));
    ASSERT_TRUE(id.ok());
    indexes.insert(id->index);
  }
  EXPECT_EQ(indexes.size(), 5u);  // distinct indexes
  c.Stabilize();
  for (uint64_t n : c.ids()) EXPECT_EQ(c.AppliedData(n).size(), 5u);
}

TEST(Replication, TestRejoin) {
  Cluster c({1, 2, 3});
  uint64_t l1 = ElectSomeone(c);
  ASSERT_TRUE(c.Propose(l1, "101").ok());
  c.Stabilize();
  // The leader is partitioned and accepts entries that can never commit.
  c.Isolate(l1);
  ASSERT_TRUE(c.Propose(l1, "102").ok());
  ASSERT_TRUE(c.Propose(l1, "103").ok());
  ASSERT_TRUE(c.Propose(l1, "104").ok());
  c.Stabilize();
  uint64_t l2 = 0;
  for (int i = 0; i < 300 && l2 == 0; ++i) {
    c.TickAll();
    c.Stabilize();
    for (uint64_t id : c.Leaders()) {
      if (id != l1) l2 = id;
    }
  }
  ASSERT_NE(l2, 0u);
  ASSERT_TRUE(c.Propose(l2, "103b").ok());
  c.Stabilize();
  // New leader partitioned, old one back.
  c.Heal();
  c.Isolate(l2);
  c.Settle(60);
  uint64_t l3 = c.LeaderOrZero();
  ASSERT_NE(l3, 0u);
  ASSERT_NE(l3, l2);
  ASSERT_TRUE(c.Propose(l3, "104b").ok());
  c.Stabilize();
  c.Heal();
  c.Settle(60);
  std::vector<std::string> want = {"101", "103b", "104b"};
  for (uint64_t id : c.ids()) EXPECT_EQ(c.AppliedData(id), want) << "member " << id;
}

TEST(Replication, TestBackupSkipsConflictingTermsQuickly) {
  Cluster c({1, 2, 3, 4, 5});
  c.Campaign(1);
  c.Stabilize();
  ASSERT_TRUE(c.Propose(1, "base").ok());
  c.Stabilize();
  // 1 and 2 form a minority and accumulate 50 uncommitted entries.
  for (uint64_t id : {3, 4, 5}) {
    c.Cut(1, id);
    c.Cut(2, id);
  }
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("lost", i)).ok());
  c.Stabilize();
  // The majority elects one of its own and commits 50 entries.
  uint64_t l2 = 0;
  for (int i = 0; i < 300 && l2 == 0; ++i) {
    for (uint64_t id : {3, 4, 5}) c.Tick(id);
    c.Stabilize();
    for (uint64_t id : c.Leaders()) {
      if (id >= 3) l2 = id;
    }
  }
  ASSERT_NE(l2, 0u);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(c.Propose(l2, absl::StrCat("kept", i)).ok());
  c.Stabilize();
  // Reconnect and count how often 1 and 2 reject appends while backing up.
  c.Heal();
  int rejects = 0;
  c.Drop([&rejects](const Message& m) {
    if (m.type() == MSG_APP_RESP && m.reject()) ++rejects;
    return false;
  });
  c.Settle(20);
  for (uint64_t id : c.ids()) {
    EXPECT_EQ(c.AppliedData(id).size(), 51u) << "member " << id;
    EXPECT_EQ(c.AppliedData(id).back(), "kept49");
  }
  // One reject per conflicting term, not one per conflicting entry (plus stale-term noise).
  EXPECT_LE(rejects, 6) << "backtracking took " << rejects << " rejections";
}

// R1, Raft paper Figure 8: a leader must not commit an entry of an earlier term by counting
// replicas, or a later leader may overwrite a "committed" entry.
TEST(Replication, TestFigure8) {
  Cluster c({1, 2, 3, 4, 5}, [](Config& cfg) {
    cfg.pre_vote = false;
    cfg.check_quorum = false;
    cfg.max_size_per_msg = 1;  // one entry per MsgApp, so replication can be cut between them
  });
  c.Campaign(1);
  c.Stabilize();
  // (a) S1 replicates "a" (index 2) to S2 only.
  for (uint64_t id : {3, 4, 5}) c.Cut(1, id);
  ASSERT_TRUE(c.Propose(1, "a").ok());
  c.Stabilize();
  EXPECT_EQ(c.raw(1).Status().commit, 1u);
  // (b) S1 crashes; S5 wins with S3, S4 and keeps its term's entry (index 2) to itself.
  c.Crash(1);
  c.Heal();
  c.Cut(5, 2);
  c.Campaign(5);
  c.Drop([](const Message& m) { return m.from() == 5 && m.type() == MSG_APP; });
  c.Stabilize();
  ASSERT_EQ(c.LeaderOrZero(), 5u);
  uint64_t t5 = c.raft(5).term();
  // (c) S5 crashes; S1 restarts and wins a later term; it replicates "a" to S3 (and S4), but
  // its own term's entry (index 3) does not get through.
  c.Crash(5);
  c.Heal();
  c.Restart(1);
  // Entries of S1's new term are lost whenever the receiver would accept them; probes that
  // the receiver rejects get through, so S1 backs up and replicates "a".
  c.Drop([&c](const Message& m) {
    if (m.from() != 1 || m.type() != MSG_APP) return false;
    if (!c.raft(m.to()).log().MatchTerm(m.index(), m.log_term())) return false;
    for (const Entry& e : m.entries()) {
      if (e.term() == c.raft(1).term()) return true;
    }
    return false;
  });
  for (int i = 0; i < 3 && c.LeaderOrZero() != 1; ++i) {
    c.Campaign(1);
    c.Stabilize();
  }
  ASSERT_EQ(c.LeaderOrZero(), 1u);
  c.Stabilize();
  // "a" is now on S1..S4, a majority, but it is not of S1's term: it must not be committed.
  EXPECT_TRUE(c.raft(3).log().MatchTerm(2, 1));
  EXPECT_EQ(c.raw(1).Status().commit, 1u);
  for (uint64_t id : {1, 2, 3, 4}) EXPECT_TRUE(c.AppliedData(id).empty());
  // (d) S1 crashes; S5 (last term t5 > 1) is elected and overwrites index 2 everywhere.
  c.Crash(1);
  c.Heal();
  c.Restart(5);
  for (int i = 0; i < 3 && c.LeaderOrZero() != 5; ++i) {
    c.Campaign(5);
    c.Stabilize();
  }
  ASSERT_EQ(c.LeaderOrZero(), 5u);
  ASSERT_TRUE(c.Propose(5, "b").ok());
  c.Stabilize();
  c.Restart(1);
  c.Settle(30);
  for (uint64_t id : c.ids()) {
    EXPECT_EQ(c.raft(id).log().ZeroTermOnOutOfBounds(2), t5) << "member " << id;
    EXPECT_EQ(c.AppliedData(id), std::vector<std::string>{"b"}) << "member " << id;
  }
}

TEST(Replication, LeaderCommitsEarlierTermEntriesWithOwnEntry) {
  Cluster c({1, 2, 3}, [](Config& cfg) {
    cfg.pre_vote = false;
    cfg.check_quorum = false;
  });
  c.Campaign(1);
  c.Stabilize();
  c.Cut(1, 3);
  ASSERT_TRUE(c.Propose(1, "x").ok());
  c.ProcessAllReadies();  // x reaches no one
  c.Heal();
  c.queue().clear();
  c.Crash(1);
  c.Restart(1);
  c.Campaign(1);
  c.Stabilize();
  // x (term 1) commits together with the new leader's empty entry.
  for (uint64_t id : c.ids()) EXPECT_EQ(c.AppliedData(id), std::vector<std::string>{"x"});
}

TEST(Persist, TestPersist1RestartAll) {
  Cluster c({1, 2, 3});
  uint64_t l = ElectSomeone(c);
  ASSERT_TRUE(c.Propose(l, "11").ok());
  c.Stabilize();
  for (uint64_t id : c.ids()) c.Crash(id);
  for (uint64_t id : c.ids()) c.Restart(id);
  c.Settle(40);
  l = c.LeaderOrZero();
  ASSERT_NE(l, 0u);
  ASSERT_TRUE(c.Propose(l, "12").ok());
  c.Stabilize();
  for (uint64_t id : c.ids()) {
    EXPECT_EQ(c.AppliedData(id), (std::vector<std::string>{"11", "12"}));
  }
}

TEST(Persist, TestPersist2RollingCrashes) {
  Cluster c({1, 2, 3, 4, 5});
  int index = 0;
  std::vector<std::string> want;
  for (int iter = 0; iter < 5; ++iter) {
    uint64_t l = 0;
    for (int i = 0; i < 300 && l == 0; ++i) {
      c.TickAll();
      c.Stabilize();
      l = c.LeaderOrZero();
    }
    ASSERT_NE(l, 0u);
    std::string v = std::to_string(++index);
    ASSERT_TRUE(c.Propose(l, v).ok());
    want.push_back(v);
    c.Stabilize();
    uint64_t a = l % 5 + 1, b = (l + 1) % 5 + 1;
    c.Crash(a);
    c.Crash(b);
    c.Restart(a);
    c.Restart(b);
  }
  c.Settle(50);
  for (uint64_t id : c.ids()) EXPECT_EQ(c.AppliedData(id), want) << "member " << id;
}

TEST(Persist, TestPersist3CrashBeforeAdvance) {
  // The leader crashes after handing out a Ready whose entries were never persisted.
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  ASSERT_TRUE(c.Propose(1, "gone").ok());
  c.Crash(1);  // the Ready is lost with the process
  c.Restart(1);
  c.Settle(60);
  uint64_t l = c.LeaderOrZero();
  ASSERT_NE(l, 0u);
  ASSERT_TRUE(c.Propose(l, "kept").ok());
  c.Stabilize();
  for (uint64_t id : c.ids()) EXPECT_EQ(c.AppliedData(id), std::vector<std::string>{"kept"});
}

TEST(FlowControl, ProbeSendsOneMessageAtATime) {
  Cluster c({1, 2}, [](Config& cfg) { cfg.max_size_per_msg = 1; });
  c.Campaign(1);
  c.Stabilize();
  // Put 2 back into probe: unreachable.
  c.raw(1).ReportUnreachable(2);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("p", i)).ok());
  c.ProcessAllReadies();
  int apps = 0;
  for (const Message& m : c.queue()) apps += m.type() == MSG_APP && m.to() == 2;
  EXPECT_EQ(apps, 1);
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(2).size(), 5u);
}

TEST(FlowControl, ReplicateIsBoundedByInflightWindow) {
  Cluster c({1, 2}, [](Config& cfg) {
    cfg.max_size_per_msg = 1;
    cfg.max_inflight_msgs = 3;
  });
  c.Campaign(1);
  c.Stabilize();
  ASSERT_EQ(c.raw(1).Status().progress[1].state, ProgressState::kReplicate);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("r", i)).ok());
  c.ProcessAllReadies();
  int apps = 0;
  for (const Message& m : c.queue()) apps += m.type() == MSG_APP && m.to() == 2;
  EXPECT_EQ(apps, 3);  // pipelined up to the window, no more
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(2).size(), 10u);
}

TEST(FlowControl, BatchesUpToMaxSizePerMessage) {
  Cluster c({1, 2}, [](Config& cfg) { cfg.max_size_per_msg = 1000; });
  c.Campaign(1);
  c.Stabilize();
  c.Cut(1, 2);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.Propose(1, std::string(100, 'a' + i)).ok());
  c.Stabilize();
  c.Heal();
  c.queue().clear();
  std::vector<int> sizes;
  c.Drop([&sizes](const Message& m) {
    if (m.type() == MSG_APP && m.entries_size() > 0) {
      uint64_t bytes = 0;
      for (const Entry& e : m.entries()) bytes += EntrySize(e);
      EXPECT_LE(bytes, 1000u);
      sizes.push_back(m.entries_size());
    }
    return false;
  });
  c.Settle(5);
  EXPECT_EQ(c.AppliedData(2).size(), 20u);
  EXPECT_GE(sizes.size(), 3u);  // 20 * 124 bytes do not fit in fewer than 3 messages
  EXPECT_GT(*std::max_element(sizes.begin(), sizes.end()), 1);  // but more than one per message
}

TEST(FlowControl, LostMessagesInReplicateRecoverThroughHeartbeats) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  int dropped = 0;
  c.Drop([&dropped](const Message& m) {
    if (m.type() == MSG_APP && m.to() == 2 && dropped < 5) {
      ++dropped;
      return true;
    }
    return false;
  });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("l", i)).ok());
  c.Stabilize();
  c.Settle(5);
  EXPECT_EQ(c.AppliedData(2).size(), 5u);
}

// R13: leadership transfer to a lagging follower catches it up first and loses no write.
TEST(LeadershipTransfer, TransferToLaggingFollower) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  c.Isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("t", i)).ok());
  c.Stabilize();
  c.Heal();
  ASSERT_TRUE(c.raw(1).TransferLeadership(3).ok());
  // Proposals are refused while the transfer is in progress.
  EXPECT_EQ(c.Propose(1, "during").status().code(), absl::StatusCode::kUnavailable);
  c.Stabilize();
  EXPECT_EQ(c.LeaderOrZero(), 3u);
  EXPECT_EQ(c.raft(1).role(), StateRole::kFollower);
  ASSERT_TRUE(c.Propose(3, "after").ok());
  c.Stabilize();
  for (uint64_t id : c.ids()) {
    EXPECT_EQ(c.AppliedData(id).size(), 6u);
    EXPECT_EQ(c.AppliedData(id).back(), "after");
  }
}

TEST(LeadershipTransfer, TransferToUnreachableFollowerIsAbandoned) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  c.Isolate(3);
  ASSERT_TRUE(c.raw(1).TransferLeadership(3).ok());
  c.Stabilize();
  EXPECT_EQ(c.raft(1).lead_transferee(), 3u);
  for (int i = 0; i < 10; ++i) {
    c.Tick(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.raft(1).lead_transferee(), kNone);
  EXPECT_EQ(c.raft(1).role(), StateRole::kLeader);
  EXPECT_TRUE(c.Propose(1, "ok again").ok());
}

TEST(LeadershipTransfer, OnlyLeaderCanTransfer) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  EXPECT_EQ(c.raw(2).TransferLeadership(3).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.raw(1).TransferLeadership(9).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tern::raft::testing
