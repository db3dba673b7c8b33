// Snapshots, compaction and InstallSnapshot (MIT 6.824 2D, plan R7).

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "cluster.h"

namespace tern::raft::testing {
namespace {

TEST(Snapshot, TestSnapshotBasic) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("s", i)).ok());
  c.Stabilize();
  for (uint64_t id : c.ids()) c.SnapshotAndCompact(id);
  EXPECT_EQ(c.raw(1).Status().first_index, 12u);
  for (int i = 10; i < 20; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("s", i)).ok());
  c.Stabilize();
  for (uint64_t id : c.ids()) EXPECT_EQ(c.AppliedData(id).size(), 20u);
}

TEST(Snapshot, TestSnapshotInstall) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  c.Crash(3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("i", i)).ok());
  c.Stabilize();
  c.SnapshotAndCompact(1);
  c.SnapshotAndCompact(2);
  int snaps = 0;
  c.Drop([&snaps](const Message& m) {
    snaps += m.type() == MSG_SNAP;
    return false;
  });
  c.Restart(3);
  c.Settle(5);
  EXPECT_GE(snaps, 1);
  EXPECT_EQ(c.node(3).applied_snapshot.index(), 11u);
  EXPECT_EQ(c.AppliedData(3), c.AppliedData(1));
  ASSERT_TRUE(c.Propose(1, "after").ok());
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(3).back(), "after");
  EXPECT_EQ(c.raw(1).Status().progress[2].state, ProgressState::kReplicate);
}

TEST(Snapshot, TestSnapshotInstallUnreliable) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  c.Isolate(3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("u", i)).ok());
  c.Stabilize();
  c.SnapshotAndCompact(1);
  c.Heal();
  // The first two transfers fail (the transport reports them failed); replication resumes.
  int failures = 0;
  c.Drop([&failures](const Message& m) {
    if (m.type() == MSG_SNAP && failures < 2) {
      ++failures;
      return true;
    }
    return false;
  });
  c.Settle(20);
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(c.AppliedData(3), c.AppliedData(1));
}

TEST(Snapshot, TestSnapshotInstallCrash) {
  // The follower receives the snapshot but crashes before persisting it: the next transfer
  // starts over and the follower ends up with the leader's state.
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  c.Isolate(3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("c", i)).ok());
  c.Stabilize();
  c.SnapshotAndCompact(1);
  c.Heal();
  for (int i = 0; i < 50 && !c.raft(3).log().UnstableSnapshot(); ++i) {
    c.TickAll();
    c.ProcessReady(1);
    c.ProcessReady(2);
    c.ProcessReady(3);
    c.DeliverOnce();
  }
  ASSERT_TRUE(c.raft(3).log().UnstableSnapshot().has_value());
  c.Crash(3);
  c.Restart(3);
  EXPECT_EQ(c.raw(3).Status().first_index, 1u);
  c.Settle(20);
  EXPECT_EQ(c.AppliedData(3), c.AppliedData(1));
}

TEST(Snapshot, TestSnapshotAllCrash) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  for (int round = 0; round < 3; ++round) {
    uint64_t l = c.LeaderOrZero();
    ASSERT_NE(l, 0u);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Propose(l, absl::StrCat("a", round, i)).ok());
    c.Stabilize();
    for (uint64_t id : c.ids()) c.SnapshotAndCompact(id);
    for (uint64_t id : c.ids()) c.Crash(id);
    for (uint64_t id : c.ids()) c.Restart(id);
    c.Settle(40);
  }
  uint64_t l = c.LeaderOrZero();
  ASSERT_NE(l, 0u);
  for (uint64_t id : c.ids()) EXPECT_EQ(c.AppliedData(id).size(), 15u);
}

TEST(Snapshot, SnapshotOfStaleIndexIsIgnored) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  ASSERT_TRUE(c.Propose(1, "z").ok());
  c.Stabilize();
  Message m;
  m.set_type(MSG_SNAP);
  m.set_from(1);
  m.set_to(2);
  m.set_term(c.raft(1).term());
  m.mutable_snapshot()->set_index(1);
  m.mutable_snapshot()->set_term(1);
  for (uint64_t v : c.ids()) m.mutable_snapshot()->mutable_conf_state()->add_voters(v);
  ASSERT_TRUE(c.raw(2).Step(m).ok());
  EXPECT_FALSE(c.raft(2).log().UnstableSnapshot().has_value());
  EXPECT_EQ(c.raw(2).Status().commit, 2u);
}

}  // namespace
}  // namespace tern::raft::testing
