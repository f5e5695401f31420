// The machine a benchmark ran on, for its JSON result: the object
// bench/report.py prints at the head of docs/performance.md, with the same
// fields bench/link/bench_link.py writes (cpu, cpus, memory_gib, kernel,
// debian, load_average_at_start, date_utc).
#ifndef SUBLINK_BENCH_SUPPORT_BENCH_MACHINE_H
#define SUBLINK_BENCH_SUPPORT_BENCH_MACHINE_H

#include <string>

namespace sublink::bench {

/// The machine as a JSON object text. Call it when the run starts: the load
/// average it records is the one the figures were measured under.
std::string machine_json();

}  // namespace sublink::bench

#endif
