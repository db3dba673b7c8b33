// Membership changes, one member at a time (src/raft/README.md, "Membership"): learners that
// catch up from a snapshot, promotion, removal of a follower and of the leader (leadership moves
// on), the refusals of ProposeConfChange, changes across a leader crash, and the quorum after
// each change.

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "cluster.h"

namespace tern::raft::testing {
namespace {

std::set<uint64_t> Voters(const ConfState& cs) { return {cs.voters().begin(), cs.voters().end()}; }
std::set<uint64_t> Learners(const ConfState& cs) {
  return {cs.learners().begin(), cs.learners().end()};
}

// The number of acknowledgements the leader needs to commit.
size_t QuorumSize(Cluster& c, uint64_t leader) {
  return c.raft(leader).tracker().voters().incoming().ids().size() / 2 + 1;
}

// Proposes with the leader, delivers everything, and says whether the entry was committed.
bool ProposeCommits(Cluster& c, uint64_t leader, const std::string& data) {
  absl::StatusOr<EntryId> id = c.Propose(leader, data);
  if (!id.ok()) return false;
  c.Settle(3);
  return c.raw(leader).Status().commit >= id->index;
}

Cluster ThreeWithLeader1() {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  c.Stabilize();
  return c;
}

TEST(Membership, AddedLearnerCatchesUpFromASnapshotAndNeverCampaigns) {
  Cluster c = ThreeWithLeader1();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("a", i)).ok());
  c.Stabilize();
  for (uint64_t id : c.ids()) c.SnapshotAndCompact(id);
  ASSERT_GT(c.raw(1).Status().first_index, 1u);

  c.AddNode(4);
  absl::StatusOr<EntryId> add = c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 4);
  ASSERT_TRUE(add.ok()) << add.status();
  c.Settle(5);

  // The snapshot predates the change that added 4; the entries after it carry the change.
  EXPECT_GT(c.node(4).applied_snapshot.index(), 0u);
  EXPECT_LT(c.node(4).applied_snapshot.index(), add->index);
  EXPECT_EQ(c.AppliedData(4), c.AppliedData(1));
  EXPECT_EQ(Voters(c.raw(4).conf_state()), (std::set<uint64_t>{1, 2, 3}));
  EXPECT_EQ(Learners(c.raw(4).conf_state()), (std::set<uint64_t>{4}));
  EXPECT_EQ(c.raw(1).Status().progress.size(), 4u);
  ASSERT_TRUE(c.Propose(1, "after").ok());
  c.Stabilize();
  EXPECT_EQ(c.AppliedData(4).back(), "after");

  // The learner does not count towards the quorum and never campaigns.
  EXPECT_EQ(QuorumSize(c, 1), 2u);
  uint64_t term = c.raft(1).term();
  c.Isolate(4);
  c.Tick(4, 100);
  c.Stabilize();
  EXPECT_EQ(c.raft(4).role(), StateRole::kFollower);
  EXPECT_EQ(c.raft(4).term(), term);
  c.Heal();
  c.Crash(2);
  EXPECT_TRUE(ProposeCommits(c, 1, "with 1 and 3"));
  c.Crash(3);
  EXPECT_FALSE(ProposeCommits(c, 1, "with 1 and the learner"));
}

TEST(Membership, JoinerLearnsTheWholeMembershipFromTheLogWithoutASnapshot) {
  Cluster c = ThreeWithLeader1();
  ASSERT_TRUE(c.Propose(1, "x").ok());
  c.Stabilize();
  c.AddNode(4);
  ASSERT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 4).ok());
  c.Settle(3);
  EXPECT_EQ(c.node(4).applied_snapshot.index(), 0u);
  EXPECT_EQ(c.AppliedData(4), c.AppliedData(1));
  // The bootstrap voters are in no entry; the change carries the whole membership.
  EXPECT_EQ(Voters(c.raw(4).conf_state()), (std::set<uint64_t>{1, 2, 3}));
  // A restart (storage without membership, log from index 1) rebuilds it from the log.
  c.Crash(4);
  c.Restart(4);
  EXPECT_EQ(Voters(c.raw(4).conf_state()), (std::set<uint64_t>{1, 2, 3}));
  EXPECT_EQ(Learners(c.raw(4).conf_state()), (std::set<uint64_t>{4}));
}

TEST(Membership, PromotedLearnerVotesAndCountsTowardsTheQuorum) {
  Cluster c = ThreeWithLeader1();
  c.AddNode(4);
  ASSERT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 4).ok());
  c.Settle(3);
  absl::StatusOr<EntryId> promote = c.ProposeConfChange(1, CONF_CHANGE_PROMOTE_LEARNER, 4);
  ASSERT_TRUE(promote.ok()) << promote.status();
  c.Settle(3);
  for (uint64_t id : {1, 2, 3, 4}) {
    EXPECT_EQ(Voters(c.raw(id).conf_state()), (std::set<uint64_t>{1, 2, 3, 4})) << id;
    EXPECT_TRUE(Learners(c.raw(id).conf_state()).empty());
  }
  EXPECT_EQ(QuorumSize(c, 1), 3u);
  // Three of four: 1, 2 and 4 commit without 3; 1 and 4 alone do not.
  c.Crash(3);
  EXPECT_TRUE(ProposeCommits(c, 1, "three of four"));
  c.Crash(2);
  EXPECT_FALSE(ProposeCommits(c, 1, "two of four"));
  c.Restart(2);
  c.Restart(3);
  c.Settle(40);
  // The promoted member can lead.
  uint64_t l = c.LeaderOrZero();
  ASSERT_NE(l, 0u);
  if (l != 4) {
    ASSERT_TRUE(c.raw(l).TransferLeadership(4).ok());
  }
  c.Settle(5);
  EXPECT_EQ(c.LeaderOrZero(), 4u);
  EXPECT_TRUE(ProposeCommits(c, 4, "led by 4"));
  for (uint64_t id : {1, 2, 3, 4}) EXPECT_EQ(c.AppliedData(id).back(), "led by 4");
}

TEST(Membership, RemovedFollowerNoLongerCountsAndCannotDisruptTheGroup) {
  Cluster c = ThreeWithLeader1();
  absl::StatusOr<EntryId> rm = c.ProposeConfChange(1, CONF_CHANGE_REMOVE, 3);
  ASSERT_TRUE(rm.ok()) << rm.status();
  c.Settle(3);
  EXPECT_GE(c.raw(1).Status().commit, rm->index);
  EXPECT_EQ(Voters(c.raw(1).conf_state()), (std::set<uint64_t>{1, 2}));
  EXPECT_EQ(c.raw(1).Status().progress.size(), 2u);
  EXPECT_EQ(QuorumSize(c, 1), 2u);
  // Removed, 3 gets nothing more. Left running, it times out and asks for (pre-)votes, which
  // the members refuse: its log lacks the change.
  uint64_t term = c.raft(1).term();
  c.Settle(60);
  EXPECT_EQ(c.LeaderOrZero(), 1u);
  EXPECT_EQ(c.raft(1).term(), term);
  c.RemoveNode(3);
  EXPECT_TRUE(ProposeCommits(c, 1, "with 1 and 2"));
  c.Crash(2);
  EXPECT_FALSE(ProposeCommits(c, 1, "1 alone"));
}

TEST(Membership, RemovedLeaderHandsLeadershipToTheMostCaughtUpVoterAndStopsCampaigning) {
  Cluster c({1, 2, 3, 4, 5});
  c.Campaign(1);
  c.Stabilize();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.Propose(1, absl::StrCat("r", i)).ok());
  c.Stabilize();
  uint64_t term = c.raft(1).term();
  // 2 lags: the hand-off must skip it and pick 3.
  c.Cut(1, 2);
  ASSERT_TRUE(c.Propose(1, "2 lacks this").ok());
  c.Stabilize();
  absl::StatusOr<EntryId> rm = c.ProposeConfChange(1, CONF_CHANGE_REMOVE, 1);
  ASSERT_TRUE(rm.ok()) << rm.status();
  // Until the removal commits the leader keeps leading (not counting itself) and takes no
  // proposals; then it hands off with MSG_TIMEOUT_NOW, so no election timeout is needed (no
  // tick below).
  EXPECT_EQ(c.Propose(1, "refused").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.raft(1).role(), StateRole::kLeader);
  c.Stabilize();
  EXPECT_EQ(c.raft(1).role(), StateRole::kFollower);
  EXPECT_EQ(c.LeaderOrZero(), 3u);
  EXPECT_EQ(c.raft(3).term(), term + 1);
  EXPECT_EQ(Voters(c.raw(3).conf_state()), (std::set<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(QuorumSize(c, 3), 3u);
  c.Heal();
  EXPECT_TRUE(ProposeCommits(c, 3, "led by 3"));
  EXPECT_EQ(c.AppliedData(2).back(), "led by 3");
  // The removed member never campaigns again.
  c.Tick(1, 200);
  c.Stabilize();
  EXPECT_EQ(c.raft(1).role(), StateRole::kFollower);
  EXPECT_EQ(c.raft(1).term(), term);
  EXPECT_EQ(c.LeaderOrZero(), 3u);
}

TEST(Membership, RemovedLeaderStepsDownEvenWhenTheHandOffIsLost) {
  Cluster c = ThreeWithLeader1();
  ASSERT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_REMOVE, 1).ok());
  // The change commits with 2 and 3; the hand-off's MSG_TIMEOUT_NOW is lost.
  c.Drop([](const Message& m) { return m.type() == MSG_TIMEOUT_NOW; });
  c.Stabilize();
  c.Heal();
  EXPECT_EQ(c.raft(1).role(), StateRole::kFollower);
  // With nobody leading, 2 and 3 elect a leader after their election timeout.
  c.Settle(40);
  uint64_t leader = c.LeaderOrZero();
  EXPECT_TRUE(leader == 2 || leader == 3) << leader;
  EXPECT_TRUE(ProposeCommits(c, leader, "after"));
}

TEST(Membership, MemberHoldingItsOwnUncommittedRemovalCampaignsWhenOnlyItCanWin) {
  // Found by the simulator (tern_raft_sim --seed 1332): the only member holding the uncommitted
  // change that removes it also has the most up-to-date log, so nobody else can win; it must
  // campaign (for the new membership, which does not count it) and complete the change.
  Cluster c({1, 2, 3, 4});
  c.Campaign(2);
  c.Stabilize();
  ASSERT_EQ(c.LeaderOrZero(), 2u);
  c.Crash(1);
  c.Isolate(2);
  ASSERT_TRUE(c.ProposeConfChange(2, CONF_CHANGE_REMOVE, 2).ok());
  c.Settle(30);  // 2 steps down (CheckQuorum); 3 and 4 cannot win without 1 or 2
  EXPECT_EQ(c.LeaderOrZero(), 0u);
  EXPECT_EQ(Voters(c.raw(2).conf_state()), (std::set<uint64_t>{1, 3, 4}));
  c.Heal();
  c.Settle(60);
  uint64_t l = c.LeaderOrZero();
  EXPECT_TRUE(l == 3 || l == 4) << l;
  for (uint64_t id : {2, 3, 4}) {
    EXPECT_EQ(Voters(c.raw(id).conf_state()), (std::set<uint64_t>{1, 3, 4})) << id;
  }
  EXPECT_GE(c.raw(2).Status().commit, c.raw(2).Status().last_conf_index);
  ASSERT_NE(l, 0u);
  EXPECT_TRUE(ProposeCommits(c, l, "after"));
  // Its removal committed, 2 never campaigns again.
  uint64_t term = c.raft(l).term();
  c.Tick(2, 200);
  c.Stabilize();
  EXPECT_EQ(c.raft(l).term(), term);
  EXPECT_EQ(c.LeaderOrZero(), l);
}

TEST(Membership, Refusals) {
  Cluster c({1, 2, 3});
  c.Campaign(1);
  // Elected, but its empty entry is not committed yet (appends are lost).
  c.Drop([](const Message& m) { return m.type() == MSG_APP; });
  c.Stabilize();
  ASSERT_EQ(c.raft(1).role(), StateRole::kLeader);
  absl::StatusOr<EntryId> r = c.ProposeConfChange(1, CONF_CHANGE_REMOVE, 3);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_NE(r.status().message().find("entry of its term"), std::string::npos) << r.status();
  c.Heal();
  c.Settle(2);

  // Not the leader.
  r = c.ProposeConfChange(2, CONF_CHANGE_REMOVE, 3);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  // Changes that do not apply to the membership.
  EXPECT_EQ(c.ProposeConfChange(1, CONF_CHANGE_PROMOTE_LEARNER, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.ProposeConfChange(1, CONF_CHANGE_PROMOTE_LEARNER, 9).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.ProposeConfChange(1, CONF_CHANGE_REMOVE, 9).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 2).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.ProposeConfChange(1, CONF_CHANGE_UNSPECIFIED, 4).status().code(),
            absl::StatusCode::kInvalidArgument);

  // One change at a time: the second waits until the first is committed.
  c.AddNode(4);
  c.AddNode(5);
  c.Isolate(1);
  ASSERT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 4).ok());
  r = c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 5);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_NE(r.status().message().find("not committed yet"), std::string::npos) << r.status();
  c.Heal();
  c.Settle(2);
  EXPECT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 5).ok());
  c.Settle(2);
  EXPECT_EQ(Learners(c.raw(1).conf_state()), (std::set<uint64_t>{4, 5}));

  // Not during a leadership transfer.
  c.Isolate(3);
  ASSERT_TRUE(c.Propose(1, "3 lacks this").ok());
  c.Stabilize();
  ASSERT_TRUE(c.raw(1).TransferLeadership(3).ok());
  r = c.ProposeConfChange(1, CONF_CHANGE_REMOVE, 5);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  c.Heal();
  c.Settle(30);

  // A leader that removed itself proposes nothing more.
  uint64_t l = c.LeaderOrZero();
  ASSERT_NE(l, 0u);
  ASSERT_TRUE(c.ProposeConfChange(l, CONF_CHANGE_REMOVE, l).ok());
  if (c.raft(l).role() == StateRole::kLeader) {
    EXPECT_EQ(c.ProposeConfChange(l, CONF_CHANGE_REMOVE, 4).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }

  // Never the last voter.
  Cluster one({1});
  one.Campaign(1);
  one.Stabilize();
  r = one.ProposeConfChange(1, CONF_CHANGE_REMOVE, 1);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("last voter"), std::string::npos) << r.status();
}

TEST(Membership, AConfChangeEntryInAPlainProposalIsRefused) {
  Cluster c = ThreeWithLeader1();
  Message proposal;
  proposal.set_type(MSG_PROP);
  proposal.set_from(1);
  proposal.set_to(1);
  proposal.add_entries()->set_type(ENTRY_CONF_CHANGE);
  const uint64_t last = c.raw(1).Status().last_index;
  absl::Status refused = c.raw(1).Step(proposal);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_EQ(c.raw(1).Status().last_index, last);
}

TEST(Membership, UncommittedChangeOfACrashedLeaderIsDroppedAndMembershipReverts) {
  Cluster c = ThreeWithLeader1();
  c.AddNode(4);
  // The change reaches only the leader's log; it crashes.
  c.Isolate(1);
  ASSERT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 4).ok());
  c.Stabilize();
  EXPECT_EQ(Learners(c.raw(1).conf_state()), (std::set<uint64_t>{4}));
  c.Crash(1);
  c.Heal();
  c.Settle(40);
  uint64_t l = c.LeaderOrZero();
  ASSERT_TRUE(l == 2 || l == 3) << l;
  EXPECT_TRUE(Learners(c.raw(l).conf_state()).empty());
  // The old leader comes back: its entry is replaced, and its membership reverts with it.
  c.Restart(1);
  EXPECT_EQ(Learners(c.raw(1).conf_state()), (std::set<uint64_t>{4}));
  EXPECT_TRUE(ProposeCommits(c, l, "new term"));
  c.Settle(3);
  EXPECT_TRUE(Learners(c.raw(1).conf_state()).empty());
  EXPECT_EQ(c.AppliedData(1), c.AppliedData(l));
  EXPECT_TRUE(c.AppliedData(4).empty());
}

TEST(Membership, ChangeReplicatedBeforeTheLeaderCrashedCommitsUnderTheNewLeader) {
  Cluster c = ThreeWithLeader1();
  c.AddNode(4);
  // The change reaches 2 but the leader crashes before it learns that it is committed.
  c.Cut(1, 3);
  c.Drop([](const Message& m) { return m.type() == MSG_APP_RESP && m.to() == 1; });
  absl::StatusOr<EntryId> add = c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 4);
  ASSERT_TRUE(add.ok());
  c.Stabilize();
  EXPECT_EQ(Learners(c.raw(2).conf_state()), (std::set<uint64_t>{4}));  // effective at append
  c.Crash(1);
  c.Heal();
  // 2 wins (3's log lacks the change); its appends are lost for now.
  c.Drop([](const Message& m) { return m.type() == MSG_APP; });
  c.Settle(40);
  ASSERT_EQ(c.raft(2).role(), StateRole::kLeader);
  // The new leader has the change in its log, uncommitted, and nothing of its term committed:
  // no other change yet.
  absl::StatusOr<EntryId> r = c.ProposeConfChange(2, CONF_CHANGE_PROMOTE_LEARNER, 4);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  c.Heal();
  c.Settle(3);
  EXPECT_GE(c.raw(2).Status().commit, add->index);
  EXPECT_EQ(c.AppliedData(4), c.AppliedData(2));
  ASSERT_TRUE(c.ProposeConfChange(2, CONF_CHANGE_PROMOTE_LEARNER, 4).ok());
  c.Settle(3);
  EXPECT_EQ(Voters(c.raw(4).conf_state()), (std::set<uint64_t>{1, 2, 3, 4}));
  // 1 restarts and learns the membership from the log.
  c.Restart(1);
  c.Settle(3);
  EXPECT_EQ(Voters(c.raw(1).conf_state()), (std::set<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(QuorumSize(c, 2), 3u);
}

TEST(Membership, RestartRebuildsMembershipFromTheSnapshotAndTheLog) {
  Cluster c = ThreeWithLeader1();
  c.AddNode(4);
  ASSERT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_ADD_LEARNER, 4).ok());
  c.Settle(3);
  // Snapshots after the first change record it; the second change stays in the log.
  for (uint64_t id : {1, 2, 3, 4}) c.SnapshotAndCompact(id);
  ASSERT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_PROMOTE_LEARNER, 4).ok());
  c.Settle(3);
  ASSERT_TRUE(c.ProposeConfChange(1, CONF_CHANGE_REMOVE, 3).ok());
  c.Settle(3);
  c.RemoveNode(3);
  for (uint64_t id : {1, 2, 4}) {
    c.Crash(id);
    c.Restart(id);
    EXPECT_EQ(Voters(c.raw(id).conf_state()), (std::set<uint64_t>{1, 2, 4})) << id;
    EXPECT_TRUE(Learners(c.raw(id).conf_state()).empty()) << id;
  }
  c.Settle(40);
  uint64_t l = c.LeaderOrZero();
  ASSERT_NE(l, 0u);
  EXPECT_EQ(QuorumSize(c, l), 2u);
  EXPECT_TRUE(ProposeCommits(c, l, "after restart"));
}

}  // namespace
}  // namespace tern::raft::testing
