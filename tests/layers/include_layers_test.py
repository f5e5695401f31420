#!/usr/bin/python3
"""The include-layer check (include_layers.py): the source tree's includes all
point down, the check catches each kind of wrong arrow, and the README lists
the rungs the check enforces. Usage: include_layers_test.py SOURCE_ROOT."""
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import include_layers  # noqa: E402

ROOT = None


def make_tree(files):
    """A temporary source tree holding `files` ({relative path: text}); the caller removes it."""
    folder = tempfile.TemporaryDirectory()
    for path, text in files.items():
        full = os.path.join(folder.name, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return folder


class SourceTree(unittest.TestCase):
    def test_every_include_points_down(self):
        self.assertEqual(include_layers.violations(ROOT), [])

    def test_the_scan_sees_the_tree(self):
        # A scan that found no files would pass the test above for nothing.
        files = include_layers.source_files(ROOT)
        self.assertIn("hal/status.h", files)
        self.assertIn("server_core/server_session.cpp", files)
        self.assertIn("tools/server/sublink_server.cpp", files)
        self.assertFalse([f for f in files if f.startswith("build/")])


class Check(unittest.TestCase):
    def violations(self, files):
        tree = make_tree(files)
        self.addCleanup(tree.cleanup)
        return include_layers.violations(tree.name)

    def test_an_include_of_a_higher_rung_is_reported_with_file_and_line(self):
        found = self.violations({
            "hal/status.h": "#pragma once\n",
            "firmware/agent/agent_config.h": "#pragma once\n",
            "hal/log.h": '#pragma once\n\n#include "firmware/agent/agent_config.h"\n',
        })
        self.assertEqual(len(found), 1)
        self.assertTrue(found[0].startswith('hal/log.h:3: includes "firmware/agent/agent_config.h" (firmware, rung 2) '
                                            "from hal (rung 0)"), found[0])

    def test_an_include_between_peers_of_one_rung_is_reported(self):
        # The two arrows this check was written for: the server reaching into
        # the Linux board, the simulation board into the server's program.
        found = self.violations({
            "boards/host/control/unix_socket.h": "#pragma once\n",
            "tools/server/core/server_session.h": "#pragma once\n",
            "tools/server/admin_socket.cpp": '#include "boards/host/control/unix_socket.h"\n',
            "boards/sim/sim_server.h": '#include "tools/server/core/server_session.h"\n',
        })
        self.assertEqual(len(found), 2)
        self.assertIn("tools/server/admin_socket.cpp:1:", found[0] + found[1])
        self.assertIn("boards/sim/sim_server.h:1:", found[0] + found[1])

    def test_includes_of_the_own_unit_and_lower_rungs_pass(self):
        self.assertEqual(self.violations({
            "hal/status.h": "#pragma once\n",
            "net/link/link.h": '#include "hal/status.h"\n',
            "firmware/protocol/messages.h": '#include "net/link/link.h"\n#include "hal/status.h"\n',
            "server_core/session.h": '#include "firmware/protocol/messages.h"\n#include "server_core/other.h"\n',
            "server_core/other.h": "#pragma once\n",
            "tools/server/main.cpp": '#include "server_core/session.h"\n#include <cstdio>\n#include "mbedtls/ssl.h"\n',
        }), [])

    def test_a_quoted_include_is_found_beside_the_file_and_under_tests(self):
        found = self.violations({
            "tests/support/process.h": "#pragma once\n",
            "bench/links/bench.cpp": '#include "support/process.h"\n',  # bench is above tests: fine
            "net/lwip/hooks.h": "#pragma once\n",
            "net/lwip/net.cpp": '#include "hooks.h"\n',
            "hal/x.cpp": '#include "support/process.h"\n',  # tests/support seen from hal: up
        })
        self.assertEqual(len(found), 1)
        self.assertTrue(found[0].startswith('hal/x.cpp:1: includes "support/process.h" (tests'), found[0])

    def test_a_source_file_outside_every_layer_is_reported(self):
        found = self.violations({"gadgets/gadget.cpp": "int x;\n", "build/_deps/lib/a.c": "int y;\n"})
        self.assertEqual(found, ["gadgets/gadget.cpp: is in no layer (add its folder to LAYERS in "
                                 "tests/layers/include_layers.py and to the README's layer list)"])

    def test_the_most_specific_unit_holds_a_file(self):
        self.assertEqual(include_layers.unit_of("tools/server/db/sqlite_directory.h"), "tools/server")
        self.assertEqual(include_layers.unit_of("boards/sim/sim_server.h"), "boards/sim")
        self.assertEqual(include_layers.unit_of("hal/status.h"), "hal")
        self.assertIsNone(include_layers.unit_of("halo/x.h"))


class Readme(unittest.TestCase):
    def test_the_readme_lists_the_rungs_the_check_enforces(self):
        with open(os.path.join(ROOT, "README.md")) as f:
            text = f.read()
        section = text.split("<!-- layers:begin -->")[1].split("<!-- layers:end -->")[0]
        listed = []
        for line in section.splitlines():
            match = re.match(r"^\d+\. (.+?):\s", line)
            if match:
                listed.append(re.findall(r"`([^`]+)/`", line.split(":", 1)[1]))
        self.assertEqual(listed, [units for _, units in include_layers.LAYERS])


if __name__ == "__main__":
    ROOT = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    unittest.main(verbosity=2)
