#include "boards/mps2-an385/semihosting.h"

namespace sublink::semihosting {

namespace {

enum Op : uint32_t {
  kOpen = 0x01,
  kClose = 0x02,
  kWrite0 = 0x04,
  kWrite = 0x05,
  kRead = 0x06,
  kSeek = 0x0A,
  kFlen = 0x0C,
  kClock = 0x10,
  kTime = 0x11,
  kGetCmdline = 0x15,
  kExitExtended = 0x20,
};

constexpr uint32_t kApplicationExit = 0x20026;  // ADP_Stopped_ApplicationExit

// The trap: operation in r0, argument (usually a parameter block) in r1,
// result in r0. "memory": the host reads and writes the blocks.
uint32_t call(uint32_t op, const void* arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

}  // namespace

void write0(const char* text) { call(kWrite0, text); }

int command_line(std::span<char> out) {
  if (out.empty()) return -1;
  uint32_t block[2] = {reinterpret_cast<uint32_t>(out.data()), static_cast<uint32_t>(out.size())};
  if (call(kGetCmdline, block) != 0) return -1;
  if (block[1] >= out.size()) return -1;
  out[block[1]] = '\0';
  return static_cast<int>(block[1]);
}

Handle open(std::string_view path, Mode mode) {
  // The host wants a NUL-terminated name even though the length is passed.
  char name[256];
  if (path.size() >= sizeof name) return -1;
  for (size_t i = 0; i < path.size(); ++i) name[i] = path[i];
  name[path.size()] = '\0';
  uint32_t block[3] = {reinterpret_cast<uint32_t>(name), static_cast<uint32_t>(mode), static_cast<uint32_t>(path.size())};
  return static_cast<Handle>(call(kOpen, block));
}

void close(Handle handle) {
  uint32_t block[1] = {static_cast<uint32_t>(handle)};
  call(kClose, block);
}

long length(Handle handle) {
  uint32_t block[1] = {static_cast<uint32_t>(handle)};
  return static_cast<long>(static_cast<int32_t>(call(kFlen, block)));
}

bool seek(Handle handle, size_t offset) {
  uint32_t block[2] = {static_cast<uint32_t>(handle), static_cast<uint32_t>(offset)};
  return call(kSeek, block) == 0;
}

long read(Handle handle, std::span<uint8_t> out) {
  uint32_t block[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(out.data()),
                       static_cast<uint32_t>(out.size())};
  // The answer is the count NOT read.
  uint32_t left = call(kRead, block);
  if (left > out.size()) return -1;
  return static_cast<long>(out.size() - left);
}

bool write(Handle handle, std::span<const uint8_t> data) {
  uint32_t block[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(data.data()),
                       static_cast<uint32_t>(data.size())};
  return call(kWrite, block) == 0;  // the count NOT written
}

uint32_t host_time() { return call(kTime, nullptr); }

uint32_t host_clock() { return call(kClock, nullptr); }

void exit(int status) {
  uint32_t block[2] = {kApplicationExit, static_cast<uint32_t>(status)};
  for (;;) call(kExitExtended, block);
}

}  // namespace sublink::semihosting
