#!/usr/bin/python3
"""The footprint report of a bare-metal image: see HELP."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import accounting  # noqa: E402
import elf_sections  # noqa: E402
import mapfile  # noqa: E402
import report  # noqa: E402

PROG = "footprint.py"
DEFAULT_ARENA = r"(?i)tls.?(memory|arena)"

HELP = """\
NAME
    footprint.py - flash and RAM of the board image per component

SYNOPSIS
    footprint.py MAP [--elf ELF] [--console LOG] [--build-dir DIR] [--top N]
                 [--flash-region NAME]... [--ram-region NAME]...
                 [--arena-symbol REGEX]

DESCRIPTION
    Reads the GNU ld map file of an image and prints its flash (.text,
    .rodata and the initial values of .data) and RAM (.data, .bss) per
    component: agent core (firmware/), net (net/), hal (hal/), board
    (boards/), Mbed TLS, lwIP, cJSON and libc/libgcc/libstdc++, told apart
    by the object or archive each input section came from; the RAM the
    linker script reserves without contents (heap, stack); the biggest
    items of each component; the TLS arena and stack high-water marks from
    the console log of a run; and where the image stands against the goals
    of issue 5: agent code (firmware, net, hal) at most 24 KB of flash, the
    image at most 160 KB of flash, RAM (static + TLS arena peak + stack +
    heap) at most 48 KB. It is a benchmark: goals not met are reported, not
    failed.

    Flash and RAM regions come from the map's memory configuration: regions
    without write access are flash, regions named like RAM are RAM, others
    (a records area) are listed as not counted.

OPTIONS
    --elf ELF            the image, for which sections have contents (default:
                         the map's OUTPUT file; without it, names decide)
    --console LOG        console log of a run with the board's
                         "[mps2] tls_arena_peak N" and "[mps2] stack_peak N"
    --build-dir DIR      the link's directory, which the map's paths are
                         relative to (default: found from the map's OUTPUT)
    --top N              items shown per component (default 5)
    --flash-region NAME  count NAME as flash (repeatable; replaces the default)
    --ram-region NAME    count NAME as RAM (repeatable; replaces the default)
    --arena-symbol REGEX the TLS arena's buffer, counted at its peak in the RAM
                         goal (default:
                         %s)

FILES
    build/mps2-an385/bin/sublink-mps2.map, .elf   the mps2-an385 image

EXIT STATUS
    0   the report was printed (whether or not the goals are met)
    1   the map, ELF or console log could not be read
    2   bad usage

EXAMPLES
    tools/footprint/footprint.py build/mps2-an385/bin/sublink-mps2.map \\
        --console build/mps2-an385/net-test-console.log
""" % DEFAULT_ARENA


def usage_error(problem):
    sys.stderr.write("%s: %s\ntry '%s --help'\n" % (PROG, problem, PROG))
    return 2


def parse(argv):
    """(options dict, None) or (None, exit status)."""
    o = {"map": None, "elf": None, "console": None, "build_dir": None, "top": 5, "flash_region": [],
         "ram_region": [], "arena_symbol": DEFAULT_ARENA}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            sys.stdout.write(HELP)
            return None, 0
        if a in ("--elf", "--console", "--build-dir", "--top", "--flash-region", "--ram-region", "--arena-symbol"):
            if i + 1 >= len(argv):
                return None, usage_error("%s needs a value" % a)
            key, value = a[2:].replace("-", "_"), argv[i + 1]
            if a == "--top":
                if not value.isdigit() or int(value) < 1:
                    return None, usage_error("--top needs a whole number above 0, not '%s'" % value)
                value = int(value)
            if a == "--arena-symbol":
                try:
                    re.compile(value)
                except re.error as e:
                    return None, usage_error("--arena-symbol: %s" % e)
            if isinstance(o[key], list):
                o[key].append(value)
            else:
                o[key] = value
            i += 2
            continue
        if a.startswith("-") or o["map"]:
            return None, usage_error("unexpected argument '%s'" % a)
        o["map"] = a
        i += 1
    if not o["map"]:
        return None, usage_error("the map file is missing")
    return o, None


def locate(map_path, output, build_dir):
    """(build dir, ELF path or None): the map's OUTPUT path is relative to
    the link's directory, which ends in the OUTPUT's own folder part."""
    map_dir = os.path.dirname(os.path.abspath(map_path))
    if build_dir is None:
        build_dir = map_dir
        if output and not os.path.isabs(output):
            sub = os.path.dirname(output)
            if sub and map_dir.endswith(os.sep + sub):
                build_dir = map_dir[:-len(sub) - 1]
    elf = None
    if output:
        candidate = output if os.path.isabs(output) else os.path.join(build_dir, output)
        elf = candidate if os.path.isfile(candidate) else None
    return build_dir, elf


def main(argv):
    o, status = parse(argv)
    if o is None:
        return status
    try:
        with open(o["map"], errors="replace") as f:
            parsed = mapfile.parse(f.read())
        if not parsed.sections:
            print("%s: %s is not a GNU ld map file (no memory map in it)" % (PROG, o["map"]), file=sys.stderr)
            return 1
        build_dir, elf = locate(o["map"], parsed.output, o["build_dir"])
        elf = o["elf"] or elf
        stored = elf_sections.stored_sections(elf) if elf else None
        peaks = {}
        if o["console"]:
            with open(o["console"], errors="replace") as f:
                peaks = report.console_peaks(f.read())
    except (OSError, ValueError) as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    fp = accounting.account(parsed, stored, o["flash_region"], o["ram_region"], build_dir)
    sys.stdout.write(report.render(fp, elf or o["map"], peaks, o["console"], o["arena_symbol"], o["top"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
