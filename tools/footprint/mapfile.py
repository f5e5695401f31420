"""Reads a GNU ld map file (-Wl,-Map=...): the memory regions and, for
every output section, its addresses and the input sections, fill and
symbols placed in it. Only what the linker placed counts: the "Discarded
input sections" list and the archive-member list before it are skipped."""
import re
from dataclasses import dataclass, field
from typing import List, Optional

_HEX = r"0x([0-9a-fA-F]+)"
_OUTPUT = re.compile(r"^(\S+)\s+%s\s+%s(?:\s+load address %s)?\s*$" % (_HEX, _HEX, _HEX))
_OUTPUT_NAME_ONLY = re.compile(r"^(\.\S+|[A-Za-z_]\S*)\s*$")
_OUTPUT_ADDRESSES = re.compile(r"^\s+%s\s+%s(?:\s+load address %s)?\s*$" % (_HEX, _HEX, _HEX))
_INPUT = re.compile(r"^ (\S+)\s+%s\s+%s\s+(\S.*?)\s*$" % (_HEX, _HEX))
_INPUT_NAME_ONLY = re.compile(r"^ (\S+)\s*$")
_INPUT_ADDRESSES = re.compile(r"^\s{2,}%s\s+%s\s+(\S.*?)\s*$" % (_HEX, _HEX))
_FILL = re.compile(r"^ \*fill\*\s+%s\s+%s" % (_HEX, _HEX))
_SYMBOL = re.compile(r"^\s{2,}%s\s{2,}(\S.*?)\s*$" % _HEX)
_REGION = re.compile(r"^(\S+)\s+%s\s+%s(?:\s+(\S+))?\s*$" % (_HEX, _HEX))

# Sections that are not part of the image in memory (debug info, notes for
# tools, the linker's own bookkeeping).
_NOT_ALLOCATED = re.compile(r"^\.(debug|comment|ARM\.attributes|stab|gnu\.attributes|gnu_debug|line)")


@dataclass
class Region:
    """A MEMORY region of the linker script."""
    name: str
    origin: int
    length: int
    attributes: str

    def contains(self, address):
        return self.origin <= address < self.origin + self.length


@dataclass
class InputSection:
    """One input section placed in an output section."""
    name: str          # e.g. .text._ZN7sublink5Agent4stepEx
    address: int
    size: int
    path: str          # object file or archive(member) as ld names it
    symbols: List[str] = field(default_factory=list)


@dataclass
class OutputSection:
    """One output section with what went into it."""
    name: str
    address: int
    size: int
    load_address: Optional[int]
    inputs: List[InputSection] = field(default_factory=list)
    fill: int = 0      # bytes of *fill*: alignment, or all of a reservation

    @property
    def lma(self):
        """Where the section's contents are stored (its load address)."""
        return self.address if self.load_address is None else self.load_address

    @property
    def allocated(self):
        """False for debug info and other sections not in target memory."""
        return not _NOT_ALLOCATED.match(self.name)

    @property
    def is_reservation(self):
        """Space set aside without contents (heap, stack): only fill."""
        return self.size > 0 and not any(i.size for i in self.inputs)


@dataclass
class MapFile:
    regions: List[Region]
    sections: List[OutputSection]
    output: Optional[str]  # the ELF named by OUTPUT(...), relative to the link's directory


def parse(text):
    """Parses the text of a GNU ld map file."""
    lines = text.splitlines()
    regions = _parse_regions(lines)
    start = next((i for i, line in enumerate(lines) if line.startswith("Linker script and memory map")), len(lines))
    sections, output = [], None
    current = None
    pending_input = None   # an input section whose name was on its own line
    pending_output = None  # an output section whose name was on its own line
    for line in lines[start + 1:]:
        if pending_output is not None:
            m = _OUTPUT_ADDRESSES.match(line)
            name, pending_output = pending_output, None
            if m:
                current = _output(name, m.group(1), m.group(2), m.group(3))
                sections.append(current)
                continue
            current = None  # an empty output section (no address line)
        if pending_input is not None:
            m = _INPUT_ADDRESSES.match(line)
            name, pending_input = pending_input, None
            if m and current is not None:
                current.inputs.append(InputSection(name, int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
                continue
        if line.startswith("Cross Reference Table"):
            break
        if line.startswith("OUTPUT("):
            output = line[len("OUTPUT("):].split()[0]
            current = None
            continue
        if not line or line.startswith(("LOAD ", "START GROUP", "END GROUP")):
            continue
        if not line[0].isspace():
            m = _OUTPUT.match(line)
            if m:
                current = _output(m.group(1), m.group(2), m.group(3), m.group(4))
                sections.append(current)
            elif _OUTPUT_NAME_ONLY.match(line):
                pending_output = line.strip()
            continue
        if current is None:
            continue
        m = _FILL.match(line)
        if m:
            current.fill += int(m.group(2), 16)
            continue
        m = _INPUT.match(line)
        if m and not line.startswith(" *"):
            current.inputs.append(InputSection(m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4)))
            continue
        m = _INPUT_NAME_ONLY.match(line)
        if m and not line.startswith(" *"):
            pending_input = m.group(1)
            continue
        m = _SYMBOL.match(line)
        if m and " = " not in m.group(2) and current.inputs:
            current.inputs[-1].symbols.append(m.group(2))
    return MapFile(regions, sections, output)


def _output(name, address, size, load):
    return OutputSection(name, int(address, 16), int(size, 16), int(load, 16) if load else None)


def _parse_regions(lines):
    regions = []
    try:
        start = lines.index("Memory Configuration")
    except ValueError:
        return regions
    for line in lines[start + 1:]:
        if line.startswith("Linker script and memory map"):
            break
        m = _REGION.match(line)
        if m and m.group(1) not in ("Name", "*default*"):
            regions.append(Region(m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4) or ""))
    return regions
