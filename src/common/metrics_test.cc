#include "common/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tessera::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersEveryInstrumentInTextFormat) {
  Registry r;
  r.GetCounter("t_requests_total", "Requests.", {{"endpoint", "search"}, {"code", "0"}}).Inc(3);
  r.GetGauge("t_segments", "Segments.", {{"state", "sealed"}}).Set(2);
  r.SetGaugeCallback("t_queue", "Queue depth.", [] { return 5.0; });
  r.SetCounterCallback("t_hits_total", "Hits.", [] { return 7.0; }, {{"cache", "disk"}});
  auto& h = r.GetHistogram("t_latency_seconds", "Latency.", {}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(7);
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE t_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("t_requests_total{code=\"0\",endpoint=\"search\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("t_segments{state=\"sealed\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("t_queue 5\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE t_hits_total counter\nt_hits_total{cache=\"disk\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("t_latency_seconds_bucket{le=\"0.10000000000000001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("t_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("t_latency_seconds_count 3\n"));
}

TEST(MetricsTest, SameNameAndLabelsIsSameInstrument) {
  Registry r;
  r.GetCounter("c_total", "C.").Inc();
  r.GetCounter("c_total", "C.").Inc();
  EXPECT_EQ(r.GetCounter("c_total", "C.").value(), 2);
}

}  // namespace
}  // namespace tessera::metrics
