// Ending a run: the closing console lines (TLS arena and stack high-water
// marks, then "[mps2] exit <status> <why>") and QEMU's exit status through
// semihosting, so a harness learns both from one run.
#pragma once

#include <string_view>

namespace sublink::mps2 {

/// Exit statuses of the image.
inline constexpr int kExitPassed = 0;    // exit_on reached
inline constexpr int kExitDeadline = 1;  // deadline_s reached first
inline constexpr int kExitConfig = 2;    // the configuration or a file it names is unusable
inline constexpr int kExitFault = 3;     // a CPU fault or a failed assertion
inline constexpr int kExitStorage = 4;   // the flash image cannot be used

/// Prints the closing lines and ends the run with `status`.
[[noreturn]] void board_exit(int status, std::string_view why);

}  // namespace sublink::mps2
