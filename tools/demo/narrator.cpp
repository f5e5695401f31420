#include "tools/demo/narrator.h"

#include <time.h>

namespace sublink::demo {

namespace {

int64_t monotonic_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

}  // namespace

Narrator::Narrator(FILE* out, std::vector<std::string> steps)
    : out_(out), steps_(std::move(steps)), start_ms_(monotonic_ms()) {}

int64_t Narrator::elapsed_ms() const { return monotonic_ms() - start_ms_; }

void Narrator::line(const char* tag, const std::string& text) {
  const int64_t t = elapsed_ms();
  fprintf(out_, "[%4lld.%lds] %-5s %s\n", static_cast<long long>(t / 1000), static_cast<long>((t % 1000) / 100), tag,
          text.c_str());
  fflush(out_);
}

void Narrator::say(const std::string& text) { line("", text); }

void Narrator::act(const std::string& text) { line(">>", text); }

void Narrator::pass(const std::string& detail) {
  ++passed_;
  line("PASS", detail);
}

void Narrator::fail(const std::string& why) {
  failed_ = passed_;
  line("FAIL", (passed_ < steps_.size() ? steps_[passed_] : std::string("after the last step")) + ": " + why);
}

bool Narrator::summarize() {
  const int64_t t = elapsed_ms();
  fprintf(out_, "\n");
  if (!failed_ && passed_ == steps_.size()) {
    fprintf(out_, "Every step happened: %zu of %zu PASS in %lld s.\n", passed_, steps_.size(),
            static_cast<long long>((t + 500) / 1000));
    fflush(out_);
    return true;
  }
  fprintf(out_, "%zu of %zu steps happened in %lld s.\n", passed_, steps_.size(),
          static_cast<long long>((t + 500) / 1000));
  for (size_t i = passed_; i < steps_.size(); ++i) {
    fprintf(out_, "  %s  %s\n", failed_ && *failed_ == i ? "FAILED     " : "not reached", steps_[i].c_str());
  }
  fflush(out_);
  return false;
}

}  // namespace sublink::demo
