#!/usr/bin/python3
"""Unit tests of tools/footprint, the footprint report: component classification of ld's
paths, map parsing (split lines, fill, reservations, load addresses,
discarded and debug sections), flash/RAM accounting and the goals."""
import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "footprint"))
import accounting  # noqa: E402
import components as c  # noqa: E402
import footprint  # noqa: E402
import mapfile  # noqa: E402
import report  # noqa: E402

GCC = "/usr/lib/gcc/arm-none-eabi/12.2.1"
NEWLIB = GCC + "/../../../arm-none-eabi/lib/thumb/v7-m/nofp"

# A map in the shape GNU ld 2.40 writes for the mps2-an385 image, cut down.
MAP = """\
Archive member included to satisfy reference by file (symbol)

net/tls/libsublink_tls.a(tls_arena.cpp.obj)
                              boards/mps2-an385/CMakeFiles/sublink-mps2.dir/board_exit.cpp.obj (x)

Discarded input sections

 .text          0x00000000      0x400 firmware/agent/libsublink_agent.a(agent.cpp.obj)
 .text.unused   0x00000000      0x800 net/link/libsublink_link.a(link.cpp.obj)

Memory Configuration

Name             Origin             Length             Attributes
CODE             0x00000000         0x003e0000         xr
NOR              0x003e0000         0x00020000         rw
RAM              0x20000000         0x00400000         xrw
*default*        0x00000000         0xffffffff

Linker script and memory map

LOAD boards/mps2-an385/CMakeFiles/sublink-mps2.dir/main.cpp.obj
LOAD libsublink_mbedtls.a
START GROUP
LOAD {gcc}/libgcc.a
END GROUP
                0x00004000                        __stack_size = 0x4000

.isr_vector     0x00000000       0xc0
 *(.isr_vector)
 .isr_vector    0x00000000       0xc0 boards/mps2-an385/CMakeFiles/sublink-mps2.dir/startup.cpp.obj

.text           0x000000c0     0x1100
 *(.text .text.*)
 .text._ZN7sublink5Agent4stepEx
                0x000000c0      0x300 firmware/agent/libsublink_agent.a(agent.cpp.obj)
                0x000000c0                sublink::Agent::step(long long)
 .text._ZN7sublink9WsEncoder6encodeEv
                0x000003c0      0x100 net/websocket/libsublink_websocket.a(ws_frame.cpp.obj)
 .text.crc32    0x000004c0       0x40 hal/libsublink_hal.a(crc32.cpp.obj)
                0x000004c0                crc32
 *fill*         0x00000500        0x4 
 .text.mbedtls_ecp_mul
                0x00000504      0x800 libsublink_mbedtls.a(ecp.c.obj)
                0x00000504                mbedtls_ecp_mul
 .text.tcp_input
                0x00000d04      0x200 net/lwip/libsublink_lwip.a(tcp_in.c.obj)
                0x00000d04                tcp_input
 .text._ZN7sublink8LwipPipe4pollEv
                0x00000f04       0x80 net/lwip/libsublink_lwip_net.a(lwip_pipe.cpp.obj)
 .text.cJSON_Parse
                0x00000f84       0x7c libsublink_cjson.a(cJSON.c.obj)
                0x00000f84                cJSON_Parse
 .text          0x00001000       0x80 {gcc}/libgcc.a(_udivmoddi4.o)
                0x00001000                __udivmoddi4
 .rodata.fault_report.str1.1
                0x00001080       0x40 boards/mps2-an385/CMakeFiles/sublink-mps2.dir/startup.cpp.obj
 .rodata.str1.1 0x000010c0       0x20 hal/libsublink_hal.a(crc32.cpp.obj)
 .rodata        0x000010e0       0xe0 {newlib}/libc_nano.a(lib_a-findfp.o)
                0x000010c0                __sf_fake_stderr
                0x000011c0                        . = ALIGN (0x4)

.ARM.extab
 *(.ARM.extab* .gnu.linkonce.armextab.*)

.data           0x20000000       0x20 load address 0x000011c0
                0x20000000                        __data_start = .
 *(.data .data.*)
 .data._ZN7sublink12_GLOBAL__N_17g_stateE
                0x20000000       0x10 firmware/agent/libsublink_agent.a(agent.cpp.obj)
 .data          0x20000010       0x10 {newlib}/libc_nano.a(lib_a-impure.o)
                0x20000010                _impure_ptr

.bss            0x20000020     0x2208 load address 0x000011e0
 .bss._ZN7sublink4mps212_GLOBAL__N_111g_tls_arenaE
                0x20000020     0x2000 boards/mps2-an385/CMakeFiles/sublink-mps2.dir/main.cpp.obj
 .bss.g_pbufs   0x20002020      0x200 net/lwip/libsublink_lwip.a(pbuf.c.obj)
 *(COMMON)
 *fill*         0x20002220        0x8 

.heap           0x20002228     0x1000 load address 0x000011e0
                0x20002228                        __heap_start = .
 *fill*         0x20002228     0x1000 
                0x20003228                        __heap_end = .

.stack          0x20003228     0x4000 load address 0x000011e0
 *fill*         0x20003228     0x4000 

.nor_flash      0x003e0000    0x20000
 *fill*         0x003e0000    0x20000 
OUTPUT(bin/sublink-mps2.elf elf32-littlearm)
LOAD linker stubs

.comment        0x00000000       0x26
 .comment       0x00000000       0x26 boards/mps2-an385/CMakeFiles/sublink-mps2.dir/main.cpp.obj

.debug_info     0x00000000     0x6437
 .debug_info    0x00000000      0x999 firmware/agent/libsublink_agent.a(agent.cpp.obj)
""".format(gcc=GCC, newlib=NEWLIB)


class Classification(unittest.TestCase):
    def test_project_code_by_source_folder(self):
        self.assertEqual(c.classify("firmware/agent/libsublink_agent.a(agent.cpp.obj)"), c.AGENT)
        self.assertEqual(c.classify("net/tls/libsublink_tls.a(tls_client.cpp.obj)"), c.NET)
        self.assertEqual(c.classify("net/lwip/libsublink_lwip_net.a(lwip_pipe.cpp.obj)"), c.NET)
        self.assertEqual(c.classify("hal/libsublink_hal.a(crc32.cpp.obj)"), c.HAL)
        self.assertEqual(c.classify("boards/mps2-an385/CMakeFiles/sublink-mps2.dir/main.cpp.obj"), c.BOARD)

    def test_third_party_by_archive_even_inside_a_project_folder(self):
        self.assertEqual(c.classify("net/lwip/libsublink_lwip.a(tcp_in.c.obj)"), c.LWIP)
        self.assertEqual(c.classify("libsublink_mbedtls.a(ecp.c.obj)"), c.MBEDTLS)
        self.assertEqual(c.classify("/x/libmbedcrypto.a(aes.c.o)"), c.MBEDTLS)
        self.assertEqual(c.classify("libsublink_cjson.a(cJSON.c.obj)"), c.CJSON)

    def test_toolchain_libraries(self):
        for path in (GCC + "/libgcc.a(_udivmoddi4.o)", NEWLIB + "/libc_nano.a(lib_a-memcpy.o)",
                     NEWLIB + "/libstdc++_nano.a(new_op.o)", NEWLIB + "/libm.a(lib_a-s_floor.o)",
                     GCC + "/crti.o", "/opt/x/arm-none-eabi/lib/libnosys.a(_exit.o)"):
            self.assertEqual(c.classify(path), c.LIBC, path)

    def test_folders_above_the_build_tree_do_not_count(self):
        path = "/home/net/proj/build/m3/firmware/agent/libsublink_agent.a(agent.cpp.obj)"
        self.assertEqual(c.classify(path, "/home/net/proj/build/m3"), c.AGENT)
        self.assertEqual(c.classify("/home/net/elsewhere/libfoo.a(x.o)", "/home/net/proj/build/m3"), c.OTHER)
        self.assertEqual(c.classify("linker stubs"), c.OTHER)


class MapParsing(unittest.TestCase):
    def setUp(self):
        self.map = mapfile.parse(MAP)
        self.by_name = {s.name: s for s in self.map.sections}

    def test_regions_and_output(self):
        self.assertEqual([(r.name, r.origin, r.length) for r in self.map.regions],
                         [("CODE", 0, 0x3E0000), ("NOR", 0x3E0000, 0x20000), ("RAM", 0x20000000, 0x400000)])
        self.assertEqual(self.map.output, "bin/sublink-mps2.elf")

    def test_input_sections_on_one_or_two_lines_with_their_symbols(self):
        text = self.by_name[".text"]
        self.assertEqual(len(text.inputs), 11)
        step = text.inputs[0]
        self.assertEqual((step.address, step.size), (0xC0, 0x300))
        self.assertEqual(step.path, "firmware/agent/libsublink_agent.a(agent.cpp.obj)")
        self.assertEqual(step.symbols, ["sublink::Agent::step(long long)"])
        self.assertEqual(text.fill, 4)

    def test_discarded_and_empty_sections_are_not_placed(self):
        placed = [i.name for s in self.map.sections for i in s.inputs]
        self.assertNotIn(".text.unused", placed)
        self.assertNotIn(".ARM.extab", self.by_name)

    def test_load_address_and_reservations(self):
        self.assertEqual(self.by_name[".data"].lma, 0x11C0)
        self.assertTrue(self.by_name[".heap"].is_reservation)
        self.assertFalse(self.by_name[".bss"].is_reservation)
        self.assertFalse(self.by_name[".debug_info"].allocated)


class Accounting(unittest.TestCase):
    def setUp(self):
        self.fp = accounting.account(mapfile.parse(MAP))

    def test_flash_is_code_constants_and_data_initial_values(self):
        self.assertEqual(self.fp.flash, 0xC0 + 0x1100 + 0x20)

    def test_static_ram_is_data_and_bss_without_reservations(self):
        self.assertEqual(self.fp.static_ram, 0x20 + 0x2208)
        self.assertEqual(self.fp.reservations, [(".heap", 0x1000), (".stack", 0x4000)])
        self.assertEqual(self.fp.uncounted, [(".nor_flash", "NOR", 0x20000)])

    def test_per_component(self):
        comp = self.fp.components
        self.assertEqual(comp[c.AGENT], [0x300 + 0x10, 0x10])
        self.assertEqual(comp[c.NET], [0x100 + 0x80, 0])
        self.assertEqual(comp[c.HAL], [0x40 + 0x20, 0])
        self.assertEqual(comp[c.BOARD], [0xC0 + 0x40, 0x2000])
        self.assertEqual(comp[c.MBEDTLS], [0x800, 0])
        self.assertEqual(comp[c.LWIP], [0x200, 0x200])
        self.assertEqual(comp[c.CJSON], [0x7C, 0])
        self.assertEqual(comp[c.LIBC], [0x80 + 0xE0 + 0x10, 0x10])
        self.assertEqual(comp[c.OTHER], [4, 8])

    def test_names_of_items(self):
        names = {i.name for i in self.fp.items}
        self.assertIn("sublink::Agent::step(long long)", names)  # from the symbol line
        self.assertIn("tcp_input", names)
        self.assertIn("fault_report (strings)", names)         # .rodata.NAME.str1.1
        self.assertIn("startup.cpp.obj .isr_vector", names)    # no name in the section or symbols
        self.assertIn("crc32.cpp.obj strings", names)          # .rodata.str1.1: a file's literals
        top = accounting.biggest(self.fp.items, c.AGENT, 1)[0]
        self.assertEqual((top.flash, top.ram), (0x300, 0))

    def test_without_the_elf_bss_does_not_count_as_flash_despite_its_load_address(self):
        stored = {".isr_vector": True, ".text": True, ".data": True, ".bss": False, ".heap": False,
                  ".stack": False, ".nor_flash": False}
        self.assertEqual(accounting.account(mapfile.parse(MAP), stored).flash, self.fp.flash)


class Goals(unittest.TestCase):
    def test_ram_budget_counts_the_arena_at_its_peak(self):
        fp = accounting.account(mapfile.parse(MAP))
        peaks = report.console_peaks("x\n[mps2] tls_arena_peak 3000\n[mps2] stack_peak 2048\n"
                                     "[mps2] heap_used 512\n[mps2] exit 0 grace\n")
        b = report.ram_budget(fp, peaks, footprint.DEFAULT_ARENA)
        self.assertEqual(b.arena_reserved, 0x2000)
        self.assertEqual(b.arena_name, "sublink::mps2::(anonymous namespace)::g_tls_arena")
        self.assertEqual(b.total, (0x20 + 0x2208) - 0x2000 + 3000 + 2048 + 512)

    def test_the_tunnels_memory_is_shown_and_not_counted_twice(self):
        fp = accounting.account(mapfile.parse(MAP))
        peaks = report.console_peaks("[mps2] tunnel_memory 28580\n[mps2] heap_peak 4000\n")
        self.assertEqual(peaks["tunnel_memory"], 28580)
        text = report.render(fp, "image", peaks, "console.log", footprint.DEFAULT_ARENA)
        self.assertRegex(text, r"\n  tunnels\s+27\.9 KB \(windows and table, in the heap")
        self.assertEqual(report.ram_budget(fp, peaks, footprint.DEFAULT_ARENA).heap, 4000)
        self.assertTrue(all(len(line) <= 80 for line in text.splitlines()), text)

    def test_without_peaks_the_reservations_count(self):
        fp = accounting.account(mapfile.parse(MAP))
        b = report.ram_budget(fp, {}, footprint.DEFAULT_ARENA)
        self.assertEqual(b.total, 0x20 + 0x2208 + 0x4000 + 0x1000)

    def test_report_states_each_goal_and_never_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "image.map")
            with open(path, "w") as f:
                f.write(MAP)
            out = io.StringIO()
            with redirect_stdout(out):
                status = footprint.main([path])
        text = out.getvalue()
        self.assertEqual(status, 0)
        self.assertRegex(text, r"agent code flash \(agent core, net, hal\)\s+24\.0 KB\s+1\.2 KB\s+met")
        self.assertRegex(text, r"image flash\s+160\.0 KB\s+4\.5 KB\s+met")
        self.assertRegex(text, r"RAM: static \+ TLS arena peak \+ stack \+ heap\s+48\.0 KB\s+28\.5 KB\s+met")
        self.assertTrue(all(len(line) <= 80 for line in text.splitlines()), text)

    def test_over_a_goal_is_reported_as_over(self):
        self.assertEqual(report._status(50 * 1024, report.GOAL_RAM), "over by 2.0 KB")


class CommandLine(unittest.TestCase):
    def test_bad_usage_exits_2_and_a_missing_map_1(self):
        err = io.StringIO()
        sys.stderr, saved = err, sys.stderr
        try:
            self.assertEqual(footprint.main([]), 2)
            self.assertEqual(footprint.main(["a.map", "--top", "x"]), 2)
            self.assertEqual(footprint.main(["/nonexistent.map"]), 1)
        finally:
            sys.stderr = saved
        self.assertIn("try 'footprint.py --help'", err.getvalue())


if __name__ == "__main__":
    unittest.main()
