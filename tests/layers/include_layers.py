#!/usr/bin/python3
"""The layers of the source tree and the check that every include points down.

Each C/C++ file belongs to one unit: a folder of LAYERS (the longest one that
holds it). A file may include a file of its own unit or of a unit on a lower
rung; an include of a unit on its own rung (a sibling, such as boards/sim and
tools/server) or a higher one is a violation, and so is a source file outside
every unit (a new top folder must be placed before it is used).

Run by hand: `tests/layers/include_layers.py [ROOT]` prints each violation as
`FILE:LINE: includes "X" (UNIT, rung N) from UNIT (rung M)` and exits 1 when
there is one, 0 when every include points down. The README's layout section
lists the same rungs; include_layers_test.py checks both.
"""
import os
import re
import sys

# Lowest rung first. Units on one rung are peers: none may include another.
LAYERS = [
    ("hal", ["hal"]),
    ("net", ["net"]),
    ("firmware", ["firmware"]),
    ("host libraries", ["linux_util", "server_core"]),
    ("programs", ["boards/host", "boards/linux-arm", "boards/mps2-an385", "boards/sim", "tools/server",
                  "tools/footprint"]),
    ("programs that drive programs", ["tools/demo"]),
    ("tests", ["tests"]),
    ("fuzzing and benchmarks", ["fuzz", "bench"]),
]

SOURCE_SUFFIXES = (".h", ".hpp", ".c", ".cc", ".cpp")
# Folders the build adds to the include path besides the tree's top
# (tests/CMakeLists.txt, fuzz/CMakeLists.txt); a quoted include is also
# looked up beside the including file first, as the compiler does.
INCLUDE_ROOTS = ["", "tests"]
# Not sources of this project: build trees (third-party code under build/_deps).
SKIPPED_TOP = {"build"}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def rung_of_unit():
    """{unit folder: rung number}."""
    return {unit: rung for rung, (_, units) in enumerate(LAYERS) for unit in units}


def unit_of(path):
    """The unit (a folder of LAYERS) holding `path` (relative, with /), or None."""
    best = None
    for unit in rung_of_unit():
        if path.startswith(unit + "/") and (best is None or len(unit) > len(best)):
            best = unit
    return best


def source_files(root):
    """Every C/C++ file under `root` (relative paths), build trees and hidden folders left out."""
    found = []
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in SKIPPED_TOP and not d.startswith(".")]
        else:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(SOURCE_SUFFIXES):
                found.append(os.path.normpath(os.path.join(rel, name)).replace(os.sep, "/"))
    return sorted(found)


def resolve(root, including, target):
    """The tree's file that `#include "target"` in `including` names, or None (a system or third-party header)."""
    candidates = [os.path.join(os.path.dirname(including), target)]
    candidates += [os.path.join(base, target) for base in INCLUDE_ROOTS]
    for candidate in candidates:
        rel = os.path.normpath(candidate).replace(os.sep, "/")
        if not rel.startswith("../") and os.path.isfile(os.path.join(root, rel)):
            return rel
    return None


def violations(root):
    """Every include that points up or sideways, and every source file outside a unit, as lines of text."""
    rungs = rung_of_unit()
    problems = []
    for path in source_files(root):
        unit = unit_of(path)
        if unit is None:
            problems.append(f"{path}: is in no layer (add its folder to LAYERS in tests/layers/include_layers.py "
                            "and to the README's layer list)")
            continue
        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                match = INCLUDE_RE.match(line)
                if not match:
                    continue
                included = resolve(root, path, match.group(1))
                if included is None:
                    continue
                target_unit = unit_of(included)
                if target_unit is None or target_unit == unit:
                    continue  # an unplaced target is reported as a file of its own
                if rungs[target_unit] >= rungs[unit]:
                    problems.append(f'{path}:{number}: includes "{match.group(1)}" ({target_unit}, rung '
                                    f"{rungs[target_unit]}) from {unit} (rung {rungs[unit]}): an include must "
                                    "point to a lower rung")
    return problems


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    problems = violations(root)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
