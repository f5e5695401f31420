#include "tools/demo/line_follower.h"

#include <fcntl.h>
#include <unistd.h>

namespace sublink::demo {

void LineFollower::poll() {
  int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[8192];
  ssize_t got;
  while ((got = pread(fd, buf, sizeof buf, offset_)) > 0) {
    offset_ += got;
    partial_.append(buf, static_cast<size_t>(got));
  }
  close(fd);
  size_t start = 0;
  for (size_t nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
    lines_.push_back(partial_.substr(start, nl - start));
    start = nl + 1;
  }
  partial_.erase(0, start);
}

std::optional<size_t> LineFollower::find(size_t from, std::string_view needle) const {
  for (size_t i = from; i < lines_.size(); ++i) {
    if (lines_[i].find(needle) != std::string::npos) return i;
  }
  return std::nullopt;
}

size_t LineFollower::count(size_t from, std::string_view needle) const {
  size_t n = 0;
  for (size_t i = from; i < lines_.size(); ++i) {
    if (lines_[i].find(needle) != std::string::npos) ++n;
  }
  return n;
}

std::string_view log_message(std::string_view line) {
  if (line.size() < 3 || line[0] != '<') return line;
  size_t close = line.find('>');
  if (close == std::string_view::npos) return line;
  size_t colon = line.find(": ", close);
  if (colon == std::string_view::npos) return line.substr(close + 1);
  return line.substr(colon + 2);
}

}  // namespace sublink::demo
