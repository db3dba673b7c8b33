// JournalStorage under RawNode: a single-member group on the in-memory fault file system,
// crashing between Readies, must never lose an entry it reported committed.

#include "journal/journal_storage.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace tern::journal {
namespace {

raft::Config Cfg(uint64_t applied = 0) {
  raft::Config c;
  c.id = 1;
  c.voters = {1};
  c.seed = 3;
  c.applied = applied;
  return c;
}

TEST(JournalStorage, SingleNodeCommitsSurviveCrashes) {
  MemFileSystem fs;
  std::vector<std::string> applied;  // the application's state, durable with its snapshots
  uint64_t applied_index = 0;
  uint64_t x = 7;
  for (int life = 0; life < 20; ++life) {
    absl::StatusOr<std::unique_ptr<JournalStorage>> st = JournalStorage::Open(&fs, "/p1", {1});
    ASSERT_TRUE(st.ok()) << st.status();
    raft::RawNode node(Cfg(applied_index), st->get());
    node.Campaign();
    std::vector<std::string> pending;
    for (int step = 0; step < 30; ++step) {
      x = x * 6364136223846793005ULL + 1;
      if ((x >> 60) < 8 && node.Status().role == raft::StateRole::kLeader) {
        std::string d = absl::StrCat("l", life, "s", step);
        ASSERT_TRUE(node.Propose(d).ok());
      }
      while (node.HasReady()) {
        raft::Ready rd = node.GetReady();
        ASSERT_TRUE((*st)->Save(rd).ok());
        for (const raft::Entry& e : rd.committed_entries) {
          ASSERT_EQ(e.index(), applied_index + 1);
          applied_index = e.index();
          if (e.type() == raft::ENTRY_NORMAL) applied.push_back(e.data());
        }
        node.Advance(rd);
      }
      if ((x >> 58) % 16 == 0) {
        ASSERT_TRUE((*st)->Compact(applied_index, std::to_string(applied.size())).ok());
      }
    }
    // Crash: whatever was not synced is gone, maybe half-written.
    st->reset();
    fs.Crash((x >> 40) % 2 ? (x >> 20) : 0);
    absl::StatusOr<std::unique_ptr<JournalStorage>> re = JournalStorage::Open(&fs, "/p1", {1});
    ASSERT_TRUE(re.ok()) << re.status();
    // Everything applied (reported committed) is still in the log or below its snapshot.
    EXPECT_GE((*re)->LastIndex(), applied_index) << "life " << life;
    EXPECT_GE((*re)->InitialState()->hard_state.commit(), 0u);
  }
  EXPECT_GT(applied.size(), 20u);
}

TEST(JournalStorage, ImplementsStorageErrorsLikeMemoryStorage) {
  MemFileSystem fs;
  absl::StatusOr<std::unique_ptr<JournalStorage>> st = JournalStorage::Open(&fs, "/p1", {1, 2, 3});
  ASSERT_TRUE(st.ok());
  raft::Ready rd;
  for (uint64_t i = 1; i <= 10; ++i) {
    raft::Entry e;
    e.set_index(i);
    e.set_term(1);
    e.set_data("d");
    rd.entries.push_back(e);
  }
  rd.must_sync = true;
  ASSERT_TRUE((*st)->Save(rd).ok());
  ASSERT_TRUE((*st)->Compact(5, "app").ok());
  EXPECT_TRUE(raft::IsCompacted((*st)->Term(4).status()));
  EXPECT_EQ(*(*st)->Term(5), 1u);
  EXPECT_TRUE(raft::IsIndexUnavailable((*st)->Term(11).status()));
  EXPECT_TRUE(raft::IsCompacted((*st)->Entries(5, 8, 100).status()));
  EXPECT_EQ((*st)->Entries(6, 11, UINT64_MAX)->size(), 5u);
  absl::StatusOr<raft::SnapshotMetadata> snap = (*st)->Snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->index(), 5u);
  EXPECT_EQ(snap->data(), "app");
  EXPECT_EQ(snap->conf_state().voters_size(), 3);
}

}  // namespace
}  // namespace tern::journal
