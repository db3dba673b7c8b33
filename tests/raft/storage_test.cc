#include "raft/storage.h"

#include <gtest/gtest.h>

#include "raft/quorum.h"

namespace tern::raft {
namespace {

std::vector<Entry> Ents(uint64_t first, std::vector<uint64_t> terms) {
  std::vector<Entry> out;
  for (size_t i = 0; i < terms.size(); ++i) {
    Entry e;
    e.set_index(first + i);
    e.set_term(terms[i]);
    e.set_data("d");
    out.push_back(e);
  }
  return out;
}

TEST(MemoryStorage, TermAndBounds) {
  MemoryStorage s({1});
  s.Append(Ents(1, {1, 1, 2, 3}));
  EXPECT_EQ(s.FirstIndex(), 1u);
  EXPECT_EQ(s.LastIndex(), 4u);
  EXPECT_EQ(*s.Term(0), 0u);
  EXPECT_EQ(*s.Term(3), 2u);
  EXPECT_TRUE(IsIndexUnavailable(s.Term(5).status()));
  ASSERT_TRUE(s.Compact(2).ok());
  EXPECT_EQ(s.FirstIndex(), 3u);
  EXPECT_EQ(*s.Term(2), 1u);
  EXPECT_TRUE(IsCompacted(s.Term(1).status()));
  EXPECT_TRUE(IsCompacted(s.Entries(2, 4, 100).status()));
}

TEST(MemoryStorage, AppendTruncatesConflictingSuffix) {
  MemoryStorage s({1});
  s.Append(Ents(1, {1, 1, 1}));
  s.Append(Ents(2, {2}));
  EXPECT_EQ(s.LastIndex(), 2u);
  EXPECT_EQ(*s.Term(2), 2u);
}

TEST(MemoryStorage, EntriesRespectsMaxBytesButReturnsOne) {
  MemoryStorage s({1});
  s.Append(Ents(1, {1, 1, 1, 1}));
  EXPECT_EQ(s.Entries(1, 5, 0)->size(), 1u);
  EXPECT_EQ(s.Entries(1, 5, 2 * EntrySize(Ents(1, {1})[0]))->size(), 2u);
  EXPECT_EQ(s.Entries(1, 5, UINT64_MAX)->size(), 4u);
}

TEST(MemoryStorage, SnapshotReplacesLog) {
  MemoryStorage s({1});
  s.Append(Ents(1, {1, 1}));
  SnapshotMetadata m;
  m.set_index(10);
  m.set_term(3);
  m.mutable_conf_state()->add_voters(1);
  ASSERT_TRUE(s.ApplySnapshot(m).ok());
  EXPECT_EQ(s.FirstIndex(), 11u);
  EXPECT_EQ(s.LastIndex(), 10u);
  EXPECT_EQ(*s.Term(10), 3u);
  m.set_index(5);
  EXPECT_FALSE(s.ApplySnapshot(m).ok());
}

TEST(Quorum, CommittedIndexIsMajorityMedian) {
  MajorityConfig c({1, 2, 3, 4, 5});
  std::map<uint64_t, uint64_t> match = {{1, 10}, {2, 9}, {3, 3}, {4, 2}, {5, 1}};
  auto acked = [&](uint64_t id) -> std::optional<uint64_t> { return match[id]; };
  EXPECT_EQ(c.CommittedIndex(acked), 3u);
  JointConfig j(c, MajorityConfig({1, 2, 3}));
  EXPECT_EQ(j.CommittedIndex(acked), 3u);
  JointConfig j2(MajorityConfig({4, 5}), MajorityConfig({1, 2, 3}));
  EXPECT_EQ(j2.CommittedIndex(acked), 1u);
}

TEST(Quorum, VoteResult) {
  MajorityConfig c({1, 2, 3});
  std::map<uint64_t, bool> votes;
  auto v = [&](uint64_t id) -> std::optional<bool> {
    auto it = votes.find(id);
    if (it == votes.end()) return std::nullopt;
    return it->second;
  };
  EXPECT_EQ(c.Vote(v), VoteResult::kPending);
  votes[1] = true;
  EXPECT_EQ(c.Vote(v), VoteResult::kPending);
  votes[2] = false;
  EXPECT_EQ(c.Vote(v), VoteResult::kPending);
  votes[3] = false;
  EXPECT_EQ(c.Vote(v), VoteResult::kLost);
  votes[3] = true;
  EXPECT_EQ(c.Vote(v), VoteResult::kWon);
}

}  // namespace
}  // namespace tern::raft
