// The demo's timeline as a newcomer reads it: one line per step with the
// time since the demo started, PASS or FAIL, and a summary that says
// whether every step happened.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace sublink::demo {

class Narrator {
 public:
  /// `steps`: the short title of every step, in the order they happen.
  Narrator(FILE* out, std::vector<std::string> steps);

  /// Milliseconds since the narrator was made.
  int64_t elapsed_ms() const;
  /// A line of the story that is not checked: the setup, or what the
  /// operator does next.
  void say(const std::string& text);
  void act(const std::string& text);
  /// The current step (the first that has not passed) happened; `detail`
  /// says what was seen. Steps pass in the order given.
  void pass(const std::string& detail);
  /// The current step did not happen; `why` says what was seen instead.
  void fail(const std::string& why);
  /// Prints the summary; true when every step passed.
  bool summarize();

 private:
  void line(const char* tag, const std::string& text);

  FILE* out_;
  std::vector<std::string> steps_;
  int64_t start_ms_;
  size_t passed_ = 0;
  std::optional<size_t> failed_;
};

}  // namespace sublink::demo
