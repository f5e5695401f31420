"""The footprint report as text: components, biggest items, run-time peaks
and where the image stands against the goals of issue 5 (a benchmark: it
reports, it never fails the build)."""
import re
from dataclasses import dataclass
from typing import Dict, Optional

from accounting import biggest, find_item
from components import AGENT_CODE, ORDER

KB = 1024
GOAL_AGENT_FLASH = 24 * KB
GOAL_IMAGE_FLASH = 160 * KB
GOAL_RAM = 48 * KB

_PEAK_LINE = re.compile(
    r"\[mps2\] (tls_arena_peak|json_arena_peak|stack_peak|heap_used|heap_peak|tunnel_memory) (\d+)\s*$")
# The JSON arena is shown with its peak for sizing; the goal counts it whole.
JSON_ARENA = r"(?i)json.?(memory|arena)"


def console_peaks(text):
    """{name: bytes} of the board's closing lines in a console log, e.g.
    `[mps2] tls_arena_peak 31544`; the last of each counts."""
    peaks = {}
    for line in text.splitlines():
        m = _PEAK_LINE.search(line)
        if m:
            peaks[m.group(1)] = int(m.group(2))
    return peaks


def kb(n):
    """Bytes as the report shows them: B below 1 KB, else KB (1024)."""
    return "%d B" % n if n < KB else "%.1f KB" % (n / KB)


@dataclass
class RamBudget:
    """RAM as the goal counts it: static RAM with the TLS arena's buffer
    counted at its peak use, plus the stack and heap actually used (their
    reservations where the run did not report a peak)."""
    static: int
    arena_reserved: int
    arena_peak: Optional[int]
    arena_name: Optional[str]
    stack: int
    stack_measured: bool
    heap: int
    heap_measured: bool

    @property
    def total(self):
        arena = self.arena_peak if self.arena_peak is not None else self.arena_reserved
        return self.static - self.arena_reserved + arena + self.stack + self.heap


def ram_budget(fp, peaks, arena_pattern):
    arena = find_item(fp.items, arena_pattern)
    stack = peaks.get("stack_peak")
    heap = peaks.get("heap_peak", peaks.get("heap_used"))
    return RamBudget(
        static=fp.static_ram,
        arena_reserved=arena.ram if arena else 0,
        arena_peak=peaks.get("tls_arena_peak"),
        arena_name=arena.name if arena else None,
        stack=stack if stack is not None else fp.reserved(".stack"),
        stack_measured=stack is not None,
        heap=heap if heap is not None else fp.reserved(".heap"),
        heap_measured=heap is not None)


def _status(now, goal):
    if now <= goal:
        return "met (%d%%)" % round(100 * now / goal)
    return "over by %s" % kb(now - goal)


def render(fp, image_name, peaks: Dict[str, int], console_name, arena_pattern, top=5):
    """The report text (80 columns)."""
    out = ["sublink footprint of %s" % image_name, ""]
    out.append("%-28s %12s %12s" % ("component", "flash", "RAM"))
    for name in ORDER:
        flash, ram = fp.components.get(name, (0, 0))
        if flash or ram:
            out.append("%-28s %12s %12s" % (name, kb(flash), kb(ram)))
    out.append("%-28s %12s %12s" % ("total", kb(fp.flash), kb(fp.static_ram)))
    if fp.reservations:
        out.append("reserved in RAM: " + ", ".join("%s %s" % (n, kb(s)) for n, s in fp.reservations))
    for name, region, size in fp.uncounted:
        out.append("not counted: %s %s in %s (neither image flash nor RAM)" % (name, kb(size), region))

    out += ["", "biggest items (F flash, R RAM)"]
    for name in ORDER:
        items = biggest(fp.items, name, top)
        if not items:
            continue
        out.append(name)
        for i in items:
            where = "F" if i.flash and not i.ram else "R" if i.ram and not i.flash else "FR"
            out.append("  %9s %-2s %s" % (kb(max(i.flash, i.ram)), where, _clip(i.name, 62)))

    budget = ram_budget(fp, peaks, arena_pattern)
    out += ["", "run-time peaks" + (" (%s)" % console_name if console_name else " (no console log given)")]
    if budget.arena_peak is not None:
        reserve = " of %s reserved in %s" % (kb(budget.arena_reserved), _clip(_unqualified(budget.arena_name), 30)) \
            if budget.arena_name else ""
        out.append("  TLS arena peak %10s%s" % (kb(budget.arena_peak), reserve))
    else:
        out.append("  TLS arena peak   not reported: the arena counts whole")
    json_peak = peaks.get("json_arena_peak")
    if json_peak is not None:
        json_arena = find_item(fp.items, JSON_ARENA)
        out.append("  JSON arena peak %9s%s" % (kb(json_peak), " of %s reserved (counted whole)" % kb(json_arena.ram)
                                                if json_arena else ""))
    out.append("  stack %19s%s" % (kb(budget.stack), " peak of %s reserved" % kb(fp.reserved(".stack"))
                                   if budget.stack_measured else " reserved (no peak reported)"))
    out.append("  heap %20s%s" % (kb(budget.heap), " used of %s reserved" % kb(fp.reserved(".heap"))
                                  if budget.heap_measured else " reserved (no use reported)"))

    tunnels = peaks.get("tunnel_memory")
    if tunnels is not None:
        # Already inside the heap and static figures: shown, not added.
        out.append("  tunnels %18s (windows and table, in the heap; status page)" % kb(tunnels))
    agent = sum(fp.components.get(c, (0, 0))[0] for c in AGENT_CODE)
    out += ["", "%-44s %10s %10s  %s" % ("goals (issue 5)", "goal", "now", "")]
    for label, goal, now in (("agent code flash (%s)" % ", ".join(AGENT_CODE), GOAL_AGENT_FLASH, agent),
                             ("image flash", GOAL_IMAGE_FLASH, fp.flash),
                             ("RAM: static + TLS arena peak + stack + heap", GOAL_RAM, budget.total)):
        out.append("%-44s %10s %10s  %s" % (label, kb(goal), kb(now), _status(now, goal)))
    arena = budget.arena_peak if budget.arena_peak is not None else budget.arena_reserved
    out.append("  RAM = static %s%s + arena %s + stack %s + heap %s" % (
        kb(budget.static - budget.arena_reserved), " (arena apart)" if budget.arena_reserved else "",
        kb(arena), kb(budget.stack), kb(budget.heap)))
    return "\n".join(out) + "\n"


def _unqualified(name):
    """The last part of a C++ name (g_tls_memory of (anonymous namespace)::g_tls_memory)."""
    return name.rsplit("::", 1)[-1]


def _clip(text, width):
    return text if len(text) <= width else text[:width - 3] + "..."
