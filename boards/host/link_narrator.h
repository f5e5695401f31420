// Tells what the link does, one line per step, in words a field engineer
// understands: which address and port, why an attempt failed and what to
// check, when the link is up. sublink-connect prints the lines with a
// timestamp; sublinkd sends them to its log with their level (emit()).
#pragma once

#include <cstdio>

#include "hal/log_sink.h"
#include "net/link/link.h"

namespace sublink {

class LinkNarrator : public LinkListener {
 public:
  /// Lines go to `out`, prefixed with the time since `origin`.
  LinkNarrator(FILE* out, MonotonicClock& clock);

  void on_resolved(std::string_view name, Status status, const AddressList& addresses) override;
  void on_attempt_step(const AttemptInfo& attempt, LinkStep step) override;
  void on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) override;
  void on_round_failed(Status last, Millis retry_at) override;
  void on_link_up(const AttemptInfo& attempt, bool tls_resumed) override;
  void on_text(std::string_view message) override;
  void on_link_down(Status why) override;

  /// "LINK UP on ADDRESS:PORT": on_link_up says it when the WebSocket opens
  /// (sublink-connect); the agent's daemon says it at `welcome` instead.
  void announce_link_up(const AttemptInfo& attempt, bool tls_resumed);
  /// The WebSocket is open but the server has not accepted the device yet.
  void say_websocket_open(const AttemptInfo& attempt);

  /// Writes a free-form line (level info) in the same format.
  void say(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

 protected:
  /// Where every line goes. The default prints it to `out`, prefixed with
  /// the time since construction; `line` has no newline.
  virtual void emit(LogLevel level, const char* line);

 private:
  void tell(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

  FILE* out_;
  MonotonicClock& clock_;
  Millis origin_;
};

}  // namespace sublink
