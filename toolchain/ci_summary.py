#!/usr/bin/python3
"""Prints the table of test suites that toolchain/test.sh ran: one row per
suite with how many tests ran, passed, failed and were skipped.

    ci_summary.py RESULTS_DIR

RESULTS_DIR holds one JUnit file per ctest run (NAME.xml, from ctest
--output-junit) and suites.tsv with the runs that are not ctest (one line
per suite: name, ran, passed, failed, skipped, tab-separated). Exit status 1
when any suite had a failed or skipped test: test.sh installs everything its
suites need, so a skip there means a suite did not really pass.
"""
import os
import sys
import xml.etree.ElementTree as ET


def junit_counts(path, named):
    """(ran, passed, failed, skipped) of one ctest JUnit file; the names of
    the tests that failed or were skipped are added to `named`."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    ran = passed = failed = skipped = 0
    for suite in suites:
        for case in suite.iter("testcase"):
            ran += 1
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                named.append("failed: %s" % case.get("name"))
            elif case.find("skipped") is not None or case.get("status") in ("disabled", "notrun"):
                skipped += 1
                named.append("skipped (%s): %s" % (case.get("status") or "skipped", case.get("name")))
            else:
                passed += 1
    return ran, passed, failed, skipped


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: ci_summary.py RESULTS_DIR\n")
        return 2
    d = argv[1]
    rows = []
    named = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if name.endswith(".xml"):
            try:
                rows.append((name[:-4],) + junit_counts(os.path.join(d, name), named))
            except (ET.ParseError, OSError) as e:
                rows.append((name[:-4] + " (unreadable: %s)" % e, 0, 0, 1, 0))
    tsv = os.path.join(d, "suites.tsv")
    if os.path.exists(tsv):
        with open(tsv) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 5:
                    rows.append((parts[0],) + tuple(int(x) for x in parts[1:]))
    width = max([len(r[0]) for r in rows] + [5])
    print("%-*s %6s %6s %6s %7s" % (width, "suite", "ran", "passed", "failed", "skipped"))
    total = [0, 0, 0, 0]
    for r in rows:
        print("%-*s %6d %6d %6d %7d" % (width, r[0], r[1], r[2], r[3], r[4]))
        for i in range(4):
            total[i] += r[i + 1]
    print("%-*s %6d %6d %6d %7d" % (width, "total", *total))
    for line in named:
        print("  " + line)
    return 1 if total[2] or total[3] or not rows else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
