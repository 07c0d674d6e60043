// bench/search_bench: in-process cost of SearchSegments over the load driver's corpus (the
// words of bench/load.cc MemoryText), split into segments as the tiered merge policy leaves
// them. Prints BuildSegment's thread-CPU per doc and thread-CPU p50/p99 per query and the docs offered to top-k, so the searcher's
// work is measured apart from HTTP and from other processes on the machine.
// Usage: search_bench [docs (default 200000)]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_corpus.h"
#include "search/searcher.h"
#include "search/segment.h"
#include "search/segment_builder.h"

namespace {

using papr::search::SourceDoc;

using papr::bench::MemoryText;
using papr::bench::SearchQueries;

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Segment sizes as tiers of 10 leave them: the big ones first, then a tail of small ones.
std::vector<int64_t> SegmentSizes(int64_t docs) {
  std::vector<int64_t> sizes;
  for (int64_t size = 100'000; size >= 1'000; size /= 10) {
    while (docs >= size && sizes.size() < 40) {
      sizes.push_back(size);
      docs -= size;
    }
  }
  if (docs > 0) sizes.push_back(docs);
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t docs = argc > 1 ? std::stoll(argv[1]) : 200'000;
  std::vector<std::shared_ptr<const papr::search::Segment>> segments;
  int64_t next = 0;
  double build_ms = 0;
  for (int64_t size : SegmentSizes(docs)) {
    std::vector<SourceDoc> part;
    for (int64_t i = 0; i < size; ++i, ++next) part.push_back({"m" + std::to_string(next), MemoryText(next)});
    double t0 = ThreadCpuMs();
    std::string bytes = papr::search::BuildSegment(part);
    build_ms += ThreadCpuMs() - t0;
    auto segment = papr::search::Segment::Open(std::move(bytes));
    if (!segment.ok()) return std::printf("segment: %s\n", segment.status().ToString().c_str()), 1;
    segments.push_back(*segment);
  }
  std::printf("BuildSegment: %.0f ns per doc (thread CPU)\n", build_ms * 1e6 / static_cast<double>(docs));
  std::vector<papr::search::SegmentRef> refs;
  for (const auto& s : segments) refs.push_back({s.get(), nullptr});
  for (int round = 0; round < 3; ++round) {
    std::vector<double> ms;
    for (const auto& q : SearchQueries()) {
      double t0 = ThreadCpuMs();
      auto hits = papr::search::SearchSegments(refs, papr::search::QueryTerms(q), 10);
      ms.push_back(ThreadCpuMs() - t0);
      if (!hits.ok() || hits->size() != 10) return std::printf("query %s failed\n", q.c_str()), 1;
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%lld docs in %zu segments: p50 %.3f ms, p99 %.3f ms, max %.3f ms (thread CPU)\n",
                static_cast<long long>(docs), segments.size(), ms[ms.size() / 2],
                ms[static_cast<size_t>(0.99 * (ms.size() - 1))], ms.back());
  }
  return 0;
}
