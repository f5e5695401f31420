"""Follows the board's console and decides whether each milestone of the
run happened, naming the first one that did not.

Milestones may show in any order within a phase (the board resolves its
server and syncs its clock in whatever order its network answers), so a
line is remembered as soon as it is seen and a wait for a milestone already
seen returns at once. A board that exits, or says it exits with a nonzero
status, ends every wait with that as the reason."""
import queue
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

MARK = "[mps2] "


@dataclass(frozen=True)
class Milestone:
    """One console line the run waits for. check(match) returns None when
    the line says what it should, else what is wrong with it."""
    name: str
    pattern: str
    timeout_s: float
    check: Optional[Callable[[re.Match], Optional[str]]] = None


class StepFailed(Exception):
    """A milestone did not come or came wrong; `step` is its name."""

    def __init__(self, step, reason):
        super().__init__("step '%s' failed: %s" % (step, reason))
        self.step = step
        self.reason = reason


EXIT_PATTERN = r"exit (-?\d+)(?: (.*))?$"


class Console:
    """The board's console lines, read from a stream on a thread, copied to
    `log` (a text file object) and, with echo, to echo (a callable)."""

    def __init__(self, stream, log, echo=None, clock=time.monotonic):
        self._lines = queue.Queue()
        self._log = log
        self._echo = echo
        self._clock = clock
        self._start = clock()
        self.seen = {}       # milestone name -> (match, seconds since start)
        self.values = {}     # "[mps2] KEY N" peaks and heap_used, e.g. tls_arena_peak
        self.exit_line = None
        self.ended = False
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream):
        while True:
            raw = stream.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            self._lines.put(line.rstrip("\r\n"))
        self._lines.put(None)

    def elapsed(self):
        """Seconds since the console was opened."""
        return self._clock() - self._start

    def _take(self, line, milestones):
        self._log.write(line + "\n")
        self._log.flush()
        if self._echo:
            self._echo(line)
        at = line.find(MARK)
        if at < 0:
            return
        text = line[at + len(MARK):]
        m = re.match(EXIT_PATTERN, text)
        if m and self.exit_line is None:
            self.exit_line = (int(m.group(1)), m.group(2) or "", text)
        m = re.match(r"([a-z_]+_peak|heap_used) (\d+)$", text)
        if m:
            self.values[m.group(1)] = int(m.group(2))
        for ms in milestones:
            if ms.name not in self.seen:
                m = re.match(ms.pattern, text)
                if m:
                    self.seen[ms.name] = (m, self.elapsed())

    def wait(self, milestones, known=()):
        """Waits for every milestone in order of the list, each within its
        own timeout from the end of the wait before it. `known` milestones
        (of later phases) are recorded too when their lines come early.
        Raises StepFailed for the first one missing or wrong."""
        watch = list(milestones) + [k for k in known if k not in milestones]
        for ms in milestones:
            deadline = self._clock() + ms.timeout_s
            while ms.name not in self.seen:
                self._stop_if_over(ms)
                left = deadline - self._clock()
                if left <= 0:
                    raise StepFailed(ms.name, "no '%s%s' within %.0f s" % (MARK, _readable(ms.pattern), ms.timeout_s))
                try:
                    line = self._lines.get(timeout=min(left, 0.5))
                except queue.Empty:
                    continue
                if line is None:
                    self.ended = True
                    continue
                self._take(line, watch)
            problem = ms.check(self.seen[ms.name][0]) if ms.check else None
            if problem:
                raise StepFailed(ms.name, problem)

    def _stop_if_over(self, ms):
        if self.exit_line and self.exit_line[0] != 0:
            raise StepFailed(ms.name, "the board exited first: '%s%s'" % (MARK, self.exit_line[2]))
        if self.ended:
            raise StepFailed(ms.name, "the console ended first" +
                             (" after '%s%s'" % (MARK, self.exit_line[2]) if self.exit_line else ""))

    def drain(self, timeout_s):
        """Reads the rest of the console until it ends or timeout_s passes
        (the peaks come after the exit line). True when it ended."""
        deadline = self._clock() + timeout_s
        while not self.ended:
            left = deadline - self._clock()
            if left <= 0:
                return False
            try:
                line = self._lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is None:
                self.ended = True
            else:
                self._take(line, [])
        return True


def _readable(pattern):
    """A milestone pattern as the line it expects, for failure messages."""
    text = re.sub(r"\(\?:[^)]*\)\??", "", pattern)
    text = re.sub(r"\([^)]*\)", "...", text)
    return text.replace("\\", "").rstrip("$")
