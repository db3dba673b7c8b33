#pragma once

// Building Prometheus metric families by hand, for the broker's /metrics answer (the broker
// collects its figures from the partitions on each scrape instead of keeping live counters).

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace tern::broker {

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type);

// Appends one sample (a counter's or a gauge's value, by the family's type) with `labels`.
void AddValue(prometheus::MetricFamily& family, double value,
              std::vector<prometheus::ClientMetric::Label> labels = {});

}  // namespace tern::broker
