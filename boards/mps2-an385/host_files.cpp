#include "boards/mps2-an385/host_files.h"

#include <cstdint>
#include <span>

#include "boards/mps2-an385/semihosting.h"
#include "mbedtls/platform_util.h"

namespace sublink::mps2 {

void HostFile::wipe() {
  if (data) mbedtls_platform_zeroize(data.get(), size);
}

Status read_host_file(std::string_view path, size_t max_bytes, HostFile& out) {
  semihosting::Handle h = semihosting::open(path, semihosting::Mode::read_binary);
  if (h < 0) return Status(Reason::io_error, 0);
  const long length = semihosting::length(h);
  Status status;
  if (length < 0) {
    status = Status(Reason::io_error, 0);
  } else if (static_cast<size_t>(length) > max_bytes) {
    status = Status(Reason::invalid_argument, static_cast<int32_t>(length));
  } else {
    out.wipe();
    out.data = std::make_unique<char[]>(static_cast<size_t>(length) + 1);
    out.size = static_cast<size_t>(length);
    auto bytes = std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data.get()), out.size);
    if (semihosting::read(h, bytes) != length) status = Status(Reason::io_error, 0);
    out.data[out.size] = '\0';
  }
  semihosting::close(h);
  return status;
}

}  // namespace sublink::mps2
