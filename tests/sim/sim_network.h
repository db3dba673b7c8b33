#pragma once

// A simulated network between numbered nodes, generic over the payload so the same fake carries
// Raft messages today and broker messages later. Faults: loss, duplication, delay (which also
// reorders), symmetric partitions and one-way cuts. Deterministic: ordering depends only on the
// seeded SimRng and the order of calls.
//
// Owned by one simulation; single-threaded.

#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "sim_rng.h"

namespace tern::sim {

struct NetworkFaults {
  double drop = 0;       // probability a packet is lost
  double duplicate = 0;  // probability a packet is delivered twice
  int min_delay_ticks = 1;
  int max_delay_ticks = 1;
};

template <typename Payload>
class SimNetwork {
 public:
  struct Packet {
    uint64_t from;
    uint64_t to;
    int64_t deliver_at;
    uint64_t seq;
    Payload payload;
  };

  explicit SimNetwork(SimRng* rng) : rng_(rng) {}

  void set_faults(const NetworkFaults& f) { faults_ = f; }
  const NetworkFaults& faults() const { return faults_; }

  // Queues a packet (or loses it). Returns false when it was lost at once (cut link or drop),
  // so a sender that must learn about failures (snapshot streams) can be told.
  bool Send(uint64_t from, uint64_t to, Payload p, int64_t now) {
    if (!Linked(from, to) || rng_->Chance(faults_.drop)) return false;
    int copies = rng_->Chance(faults_.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      int64_t at = now + rng_->Range(faults_.min_delay_ticks, faults_.max_delay_ticks);
      uint64_t seq = next_seq_++;
      queue_.emplace(std::make_pair(at, seq), Packet{from, to, at, seq, p});
    }
    return true;
  }

  // Removes and returns the packets due by `now`, in (time, send order). Packets whose link was
  // cut meanwhile go to `lost` instead.
  std::vector<Packet> TakeDue(int64_t now, std::vector<Packet>* lost) {
    std::vector<Packet> due;
    while (!queue_.empty() && queue_.begin()->first.first <= now) {
      Packet p = std::move(queue_.begin()->second);
      queue_.erase(queue_.begin());
      if (Linked(p.from, p.to)) {
        due.push_back(std::move(p));
      } else if (lost != nullptr) {
        lost->push_back(std::move(p));
      }
    }
    return due;
  }

  // Drops everything in flight to or from `node` (it crashed: its sockets are gone).
  void DropNode(uint64_t node, std::vector<Packet>* lost) {
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->second.to == node || it->second.from == node) {
        if (lost != nullptr) lost->push_back(std::move(it->second));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Splits the nodes into `side` and everyone else: no traffic across, both ways.
  void Partition(const std::set<uint64_t>& side, const std::vector<uint64_t>& all) {
    for (uint64_t a : all) {
      for (uint64_t b : all) {
        if (side.count(a) != side.count(b)) cut_.insert({a, b});
      }
    }
  }
  void Cut(uint64_t a, uint64_t b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void CutOneWay(uint64_t from, uint64_t to) { cut_.insert({from, to}); }
  void Heal() { cut_.clear(); }
  bool Linked(uint64_t from, uint64_t to) const { return cut_.count({from, to}) == 0; }
  size_t InFlight() const { return queue_.size(); }

 private:
  SimRng* rng_;
  NetworkFaults faults_;
  std::set<std::pair<uint64_t, uint64_t>> cut_;
  std::multimap<std::pair<int64_t, uint64_t>, Packet> queue_;
  uint64_t next_seq_ = 0;
};

}  // namespace tern::sim
