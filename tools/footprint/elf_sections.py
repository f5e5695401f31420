"""Which sections of an ELF image have contents: the map file shows a load
address for NOLOAD sections too (.bss, .heap, .stack), so only the ELF's
section types say what is really stored in flash."""
import struct

SHT_NOBITS = 8
SHF_ALLOC = 0x2


def stored_sections(path):
    """{name: True when the section has contents in the file (is stored in
    flash), False for NOBITS} for every allocated section of the ELF."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ValueError("%s is not an ELF file" % path)
    is64 = data[4] == 2
    endian = "<" if data[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(endian + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", data, 0x3A)
        header = endian + "IIQQQQIIQQ"
    else:
        shoff, = struct.unpack_from(endian + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(endian + "HHH", data, 0x2E)
        header = endian + "IIIIIIIIII"
    headers = [struct.unpack_from(header, data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = headers[shstrndx][4]
    result = {}
    for name_index, sh_type, flags, *_ in headers:
        if not flags & SHF_ALLOC:
            continue
        start = names_offset + name_index
        name = data[start:data.index(b"\0", start)].decode("ascii", "replace")
        result[name] = sh_type != SHT_NOBITS
    return result
