"""Flash and RAM of an image per component and per item (function or
object), from the parsed map and, when at hand, the ELF's section types.

Flash is what is stored: sections with contents whose load address is in a
flash region (.text, .rodata, the initial values of .data). RAM is what
occupies a RAM region at run time (.data, .bss), plus reservations made
without contents (heap, stack), which are kept apart."""
import re
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from components import OTHER, classify, split_path

# Without the ELF: names of sections that only reserve RAM.
_NO_CONTENTS = re.compile(r"^\.(t?bss|sbss|noinit|heap|stack)\b")
_KIND_PREFIX = re.compile(r"^\.(text|rodata|data|bss|sbss|sdata|tbss|tdata)(\.(startup|unlikely|hot|exit|rel\.ro))?\.")
_STRING_SUFFIX = re.compile(r"\.(str\d+\.\d+|cst\d+)$")


@dataclass
class Item:
    """One function or object (input sections of the same name merged)."""
    component: str
    name: str
    flash: int = 0
    ram: int = 0


@dataclass
class Footprint:
    components: Dict[str, List[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    items: List[Item] = field(default_factory=list)
    reservations: List[Tuple[str, int]] = field(default_factory=list)  # RAM set aside: (section, bytes)
    uncounted: List[Tuple[str, str, int]] = field(default_factory=list)  # (section, region, bytes)

    @property
    def flash(self):
        return sum(v[0] for v in self.components.values())

    @property
    def static_ram(self):
        """RAM with contents or zeroed (.data, .bss), reservations apart."""
        return sum(v[1] for v in self.components.values())

    def reserved(self, section):
        """Bytes of the reservation `section` (e.g. ".stack"), 0 if none."""
        return sum(size for name, size in self.reservations if name == section)


def default_regions(regions):
    """(flash, RAM) region names: flash are the regions not writable, RAM
    those named like RAM. Others (a NOR area for records) count as
    neither."""
    flash = [r.name for r in regions if "w" not in r.attributes.lower()]
    ram = [r.name for r in regions if "RAM" in r.name.upper()]
    return flash, ram


def account(mapfile, stored=None, flash_regions=None, ram_regions=None, build_dir=None):
    """The Footprint of a parsed map. stored: {section: has contents} from
    the ELF (elf_sections.stored_sections), else guessed from names."""
    default_flash, default_ram = default_regions(mapfile.regions)
    flash_regions = set(flash_regions or default_flash)
    ram_regions = set(ram_regions or default_ram)
    region_of = {r.name: r for r in mapfile.regions}

    def in_regions(address, names):
        return any(region_of[n].contains(address) for n in names if n in region_of)

    fp = Footprint()
    items = {}
    for section in mapfile.sections:
        if not section.allocated or section.size == 0:
            continue
        has_contents = stored.get(section.name, False) if stored is not None else \
            not _NO_CONTENTS.match(section.name) and not section.is_reservation
        to_flash = has_contents and in_regions(section.lma, flash_regions)
        to_ram = in_regions(section.address, ram_regions)
        if not to_flash and not to_ram:
            region = next((r.name for r in mapfile.regions if r.contains(section.address)), "no region")
            fp.uncounted.append((section.name, region, section.size))
            continue
        if section.is_reservation and to_ram and not to_flash:
            fp.reservations.append((section.name, section.size))
            continue
        placed = 0
        for inp in section.inputs:
            if inp.size == 0:
                continue
            placed += inp.size
            component = classify(inp.path, build_dir)
            key = (component, item_name(inp))
            item = items.setdefault(key, Item(component, key[1]))
            if to_flash:
                item.flash += inp.size
                fp.components[component][0] += inp.size
            if to_ram:
                item.ram += inp.size
                fp.components[component][1] += inp.size
        padding = section.size - placed  # *fill* and ALIGN gaps
        if padding > 0:
            fp.components[OTHER][0] += padding if to_flash else 0
            fp.components[OTHER][1] += padding if to_ram else 0
    fp.items = list(items.values())
    _demangle(fp.items)
    return fp


def item_name(inp):
    """A readable name for an input section: its first symbol, else the
    name -ffunction-sections/-fdata-sections put in the section name, else
    the section and the file it came from."""
    if inp.symbols:
        return inp.symbols[0]
    container, member = split_path(inp.path)
    source = member or container.rsplit("/", 1)[-1]
    m = _KIND_PREFIX.match(inp.name)
    if m and len(inp.name) > m.end():
        name = inp.name[m.end():]
        if _STRING_SUFFIX.fullmatch("." + name):
            return "%s strings" % source  # merged literals of a whole file
        s = _STRING_SUFFIX.search(name)
        return name[:s.start()] + " (strings)" if s else name
    return "%s %s" % (source, inp.name)


def _demangle(items):
    mangled = sorted({i.name for i in items if i.name.startswith("_Z")})
    tool = shutil.which("arm-none-eabi-c++filt") or shutil.which("c++filt")
    if not mangled or not tool:
        return
    result = subprocess.run([tool], input="\n".join(mangled) + "\n", capture_output=True, text=True)
    plain = result.stdout.splitlines()
    if result.returncode != 0 or len(plain) != len(mangled):
        return
    table = dict(zip(mangled, plain))
    for item in items:
        item.name = table.get(item.name, item.name)


def biggest(items, component, count):
    """The `count` largest items of a component (an item in flash and RAM,
    initialised data, has the same size in both)."""
    mine = [i for i in items if i.component == component]
    return sorted(mine, key=lambda i: (-max(i.flash, i.ram), i.name))[:count]


def find_item(items, pattern, min_ram=1024):
    """The largest RAM item whose name matches pattern (a regex), with at
    least min_ram bytes, or None (used to find the TLS arena's buffer)."""
    rx = re.compile(pattern)
    found = [i for i in items if i.ram >= min_ram and rx.search(i.name)]
    return max(found, key=lambda i: i.ram) if found else None

