// What /proc says about a process: resident memory and CPU time, the
// figures the benchmark divides by the number of links.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "hal/status.h"

namespace sublink {

/// Resident set size (VmRSS) of process `pid` in bytes; io_error when
/// /proc/PID/status cannot be read.
Result<size_t> resident_bytes(pid_t pid);
/// The highest resident set size so far (VmHWM) in bytes.
Result<size_t> peak_resident_bytes(pid_t pid);
/// User plus system CPU seconds process `pid` has used.
Result<double> cpu_seconds(pid_t pid);

}  // namespace sublink
