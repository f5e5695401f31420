#!/usr/bin/env python3
"""The fault matrix table (docs/fault-matrix.md) from ctest's JUnit output.

Each fault matrix test prints one line "fault-matrix-row: {json}" (fault,
outcome, reason; tests/fault_matrix/fault_row.h) at its start; ctest keeps it
in the test's <system-out>. This script collects the rows, their results
(passed, failed, not run), and checks them against the faults the matrix must
cover (tests/fault_matrix/required_faults.txt, one fault name a line):

  tools/fault_matrix/table.py JUNIT.xml [--write docs/fault-matrix.md]

Exit status 1 when a required fault has no row, or a row's test did not pass:
CI fails on either. Regenerate the document with:

  ctest --test-dir build/host -R ^FaultMatrix --output-junit fault-matrix.xml
  tools/fault_matrix/table.py build/host/fault-matrix.xml --write docs/fault-matrix.md
"""
import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

MARK = "fault-matrix-row: "
HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRED = os.path.join(HERE, "..", "..", "tests", "fault_matrix", "required_faults.txt")
REGENERATE = ("ctest --test-dir build/host -R ^FaultMatrix --output-junit fault-matrix.xml && "
              "tools/fault_matrix/table.py build/host/fault-matrix.xml --write docs/fault-matrix.md")


def rows_of(junit_path):
    """[(test name, row dict, result)] for every test that printed a row."""
    rows = []
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        out = case.findtext("system-out") or ""
        row = None
        for line in out.splitlines():
            if line.startswith(MARK):
                row = json.loads(line[len(MARK):])
                break
        if row is None:
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            result = "FAILED"
        elif case.find("skipped") is not None or case.get("status") in ("notrun", "disabled"):
            result = "not run"
        else:
            result = "passed"
        # A parameterized test's name ends with "  # GetParam() = ...".
        rows.append((case.get("name").split("  # ")[0], row, result))
    return rows


def required_faults():
    """(required, pending): the faults that must have a passing row, and
    those listed as "pending: FAULT" (no row yet; listed, not failed)."""
    required, pending = [], []
    with open(REQUIRED) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("pending: "):
                pending.append(line[len("pending: "):])
            else:
                required.append(line)
    return required, pending


def markdown(rows, missing, pending):
    lines = ["# The fault matrix", "",
             "Generated from the fault matrix suite (`tests/fault_matrix`) by:", "",
             "```sh", REGENERATE, "```", "",
             "Every row is one test that injects the fault into a licensed agent and asserts four things:",
             "the agent keeps running (or boots again cleanly), the reason it reports (a `Reason` name of",
             "`hal/status.h`, an event kind, or a PROTOCOL.md reason), that no licensed state, grace time or",
             "event is lost or duplicated, and that memory does not grow. How each is checked is said at the",
             "top of each test file: rows on the simulation (`tests/fault_matrix/sim_faults_test.cpp`) compare",
             "the device's share of the Mbed TLS arena before the fault and after the recovery; the",
             "10,000-reconnect row (`tests/fault_matrix/reconnect_soak_test.cpp`) compares the arena's use and",
             "high-water mark after the 100th and the 10,000th reconnect, and bounds RSS. A fault marked",
             "\"not covered\" has no row yet (`tests/fault_matrix/required_faults.txt`).", "",
             "| Fault | Expected outcome | Reason asserted | Test | Result |",
             "|---|---|---|---|---|"]
    for name, row, result in sorted(rows, key=lambda r: r[1]["fault"].lower()):
        lines.append("| %s | %s | `%s` | `%s` | %s |" % (row["fault"], row["outcome"], row["reason"], name, result))
    for fault in missing:
        lines.append("| %s | (no test) | | | MISSING |" % fault)
    for fault in pending:
        lines.append("| %s | (no row yet) | | | not covered |" % fault)
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("junit")
    p.add_argument("--write", metavar="MARKDOWN")
    args = p.parse_args()
    rows = rows_of(args.junit)
    covered = {row["fault"] for _, row, _ in rows}
    required, pending = required_faults()
    missing = [f for f in required if f not in covered]
    pending = [f for f in pending if f not in covered]
    text = markdown(rows, missing, pending)
    if args.write:
        with open(args.write, "w") as f:
            f.write(text)
    bad = [(n, r["fault"], res) for n, r, res in rows if res != "passed"]
    for fault in missing:
        print("fault matrix: no test for the required fault %r" % fault, file=sys.stderr)
    for name, fault, result in bad:
        print("fault matrix: %s (%s): %s" % (fault, name, result), file=sys.stderr)
    print("fault matrix: %d rows, %d passed, %d required faults without a row, %d pending"
          % (len(rows), len(rows) - len(bad), len(missing), len(pending)))
    return 1 if missing or bad else 0


if __name__ == "__main__":
    sys.exit(main())
