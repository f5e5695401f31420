// ARM semihosting: the debugger's (here QEMU's) services to the program,
// through BKPT 0xAB. The board uses it for what a lab bench gives a real
// board over its debug probe: the command line (the configuration file's
// path), files on the host (configuration, credentials, the flash image),
// the host's clock and an exit status. Run QEMU with
// -semihosting-config enable=on,target=native.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sublink::semihosting {

/// Writes a NUL-terminated string to the debugger's console (SYS_WRITE0).
void write0(const char* text);

/// The command line the debugger passes (SYS_GET_CMDLINE): QEMU joins its
/// `arg=` values with spaces. Returns the length, or -1 when it fails or
/// does not fit `out` (NUL-terminated on success).
int command_line(std::span<char> out);

/// A host file handle; negative when not open.
using Handle = int;

enum class Mode : uint32_t { read_binary = 1, read_write_binary = 3, create_binary = 5, create_read_write_binary = 7 };

/// Opens `path` (SYS_OPEN); a negative handle on failure.
Handle open(std::string_view path, Mode mode);
/// Closes `handle` (SYS_CLOSE).
void close(Handle handle);
/// Length of the open file, or -1 (SYS_FLEN).
long length(Handle handle);
/// Moves to absolute position `offset` (SYS_SEEK); false on failure.
bool seek(Handle handle, size_t offset);
/// Reads up to out.size() bytes (SYS_READ); returns the count read, or -1.
long read(Handle handle, std::span<uint8_t> out);
/// Writes all of `data` (SYS_WRITE); false when not all of it was written.
bool write(Handle handle, std::span<const uint8_t> data);

/// Seconds since 1970 on the host (SYS_TIME).
uint32_t host_time();
/// Centiseconds since the program started, on the host (SYS_CLOCK).
uint32_t host_clock();

/// Ends the program with `status` as QEMU's exit status (SYS_EXIT_EXTENDED
/// with ADP_Stopped_ApplicationExit and the status as subcode: plain
/// SYS_EXIT on 32-bit ARM carries no status).
[[noreturn]] void exit(int status);

}  // namespace sublink::semihosting
