// Follows a log file another process appends to (`tail -f` for the demo):
// every complete line read so far stays available, so a step can look for a
// line that arrived after a point it marked.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sublink::demo {

class LineFollower {
 public:
  explicit LineFollower(std::string path) : path_(std::move(path)) {}

  /// Reads what was appended since the last call (a file that does not
  /// exist yet reads as empty). A line counts once its newline arrived.
  void poll();
  /// Lines read so far; size() is a mark for find().
  const std::vector<std::string>& lines() const { return lines_; }
  size_t size() const { return lines_.size(); }
  /// Index of the first line at or after `from` that contains `needle`.
  std::optional<size_t> find(size_t from, std::string_view needle) const;
  /// How many lines at or after `from` contain `needle`.
  size_t count(size_t from, std::string_view needle) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  long long offset_ = 0;
  std::string partial_;
  std::vector<std::string> lines_;
};

/// The message of a log line with its sd-daemon prefix ("<5>sublinkd: ")
/// taken off; other lines as they are.
std::string_view log_message(std::string_view line);

}  // namespace sublink::demo
