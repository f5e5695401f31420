// One row of the fault matrix (docs/fault-matrix.md): the fault a test
// injects, the outcome the agent must show, and the reason it must report
// (a Reason name of hal/status.h, an event kind of firmware/events/event.h,
// or a PROTOCOL.md error or disconnect reason). The row is recorded twice:
// as GoogleTest properties (in --gtest_output=xml) and as one marker line on
// stdout at the start of the test, which ctest's --output-junit keeps even
// for a passing test; tools/fault_matrix/table.py builds the table from it.
#pragma once

#include <string>

namespace sublink::test {

/// Records the row of the running test. Call first in the test body, once.
void fault_row(const std::string& fault, const std::string& outcome, const std::string& reason);

/// Resident set size of process `pid` (0: this process) in KiB, from
/// /proc/PID/status; -1 when it cannot be read.
long rss_kib(int pid = 0);

}  // namespace sublink::test
