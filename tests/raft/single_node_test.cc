// A one-member group elects itself and commits an entry only after it is persisted (R9: etcd
// #14370, "single node cluster can lose a write on crash").

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "raft/raw_node.h"

namespace tern::raft {
namespace {

Config SingleConfig() {
  Config c;
  c.id = 1;
  c.voters = {1};
  c.seed = 7;
  return c;
}

TEST(SingleNode, ElectsItselfAfterElectionTimeout) {
  MemoryStorage storage({1});
  RawNode node(SingleConfig(), &storage);
  for (int i = 0; i < 20 && node.Status().role != StateRole::kLeader; ++i) node.Tick();
  EXPECT_EQ(node.Status().role, StateRole::kLeader);
  EXPECT_EQ(node.Status().term, 1u);
}

TEST(SingleNode, CommitsOnlyAfterPersisting) {
  MemoryStorage storage({1});
  RawNode node(SingleConfig(), &storage);
  node.Campaign();
  ASSERT_TRUE(node.HasReady());
  Ready rd = node.GetReady();
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, StateRole::kLeader);
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term(), 1u);
  EXPECT_EQ(rd.hard_state->vote(), 1u);
  ASSERT_EQ(rd.entries.size(), 1u);  // the leader's empty entry
  EXPECT_EQ(rd.entries[0].type(), ENTRY_EMPTY);
  EXPECT_TRUE(rd.committed_entries.empty()) << "committed before persisted";
  EXPECT_TRUE(rd.must_sync);
  storage.Append(rd.entries);
  storage.SetHardState(*rd.hard_state);
  node.Advance(rd);

  // Now persisted: the empty entry commits.
  ASSERT_TRUE(node.HasReady());
  rd = node.GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.hard_state->commit(), 1u);
  EXPECT_FALSE(rd.must_sync);  // only the commit index changed
  storage.SetHardState(*rd.hard_state);
  node.Advance(rd);
  EXPECT_FALSE(node.HasReady());

  absl::StatusOr<EntryId> id = node.Propose("hello");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->index, 2u);
  EXPECT_EQ(id->term, 1u);
  rd = node.GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.committed_entries.empty());
  storage.Append(rd.entries);
  node.Advance(rd);
  rd = node.GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].data(), "hello");
  storage.SetHardState(*rd.hard_state);
  node.Advance(rd);
  EXPECT_EQ(node.Status().applied, 2u);
}

TEST(SingleNode, CrashBeforePersistLosesNothingAcknowledged) {
  MemoryStorage storage({1});
  {
    RawNode node(SingleConfig(), &storage);
    node.Campaign();
    Ready rd = node.GetReady();
    storage.Append(rd.entries);
    storage.SetHardState(*rd.hard_state);
    node.Advance(rd);
    rd = node.GetReady();
    storage.SetHardState(*rd.hard_state);
    node.Advance(rd);
    ASSERT_TRUE(node.Propose("lost").ok());
    rd = node.GetReady();
    // Crash here: the Ready was never persisted, and nothing reported "lost" committed.
    EXPECT_TRUE(rd.committed_entries.empty());
  }
  RawNode node(SingleConfig(), &storage);
  EXPECT_EQ(node.Status().last_index, 1u);
  EXPECT_EQ(node.Status().commit, 1u);
  EXPECT_EQ(node.Status().term, 1u);
}

TEST(SingleNode, ProposeOnFollowerFails) {
  MemoryStorage storage({1, 2, 3});
  Config c = SingleConfig();
  c.voters = {1, 2, 3};
  RawNode node(c, &storage);
  absl::StatusOr<EntryId> id = node.Propose("x");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SingleNode, RestartReelectsAndKeepsLog) {
  MemoryStorage storage({1});
  {
    RawNode node(SingleConfig(), &storage);
    node.Campaign();
    for (int i = 0; i < 4; ++i) {
      while (node.HasReady()) {
        Ready rd = node.GetReady();
        storage.Append(rd.entries);
        if (rd.hard_state) storage.SetHardState(*rd.hard_state);
        node.Advance(rd);
      }
      ASSERT_TRUE(node.Propose(absl::StrCat("e", i)).ok());
    }
    while (node.HasReady()) {
      Ready rd = node.GetReady();
      storage.Append(rd.entries);
      if (rd.hard_state) storage.SetHardState(*rd.hard_state);
      node.Advance(rd);
    }
    EXPECT_EQ(node.Status().commit, 5u);
  }
  Config c = SingleConfig();
  c.applied = 5;
  RawNode node(c, &storage);
  node.Campaign();
  Ready rd = node.GetReady();
  EXPECT_EQ(rd.hard_state->term(), 2u);
  EXPECT_TRUE(rd.committed_entries.empty());  // already applied
  storage.Append(rd.entries);
  storage.SetHardState(*rd.hard_state);
  node.Advance(rd);
  rd = node.GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].index(), 6u);
  EXPECT_EQ(rd.committed_entries[0].type(), ENTRY_EMPTY);
}

}  // namespace
}  // namespace tern::raft
