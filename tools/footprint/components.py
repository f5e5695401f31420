"""Which component an input section belongs to, from the object or archive
path ld printed for it. Third-party libraries and the toolchain's are told
by the archive's name first (lwIP is built in the net/lwip build folder,
next to the project's own lwIP glue); the project's code by the source
folder the build tree mirrors."""
import os
import re

AGENT = "agent core"
NET = "net"
HAL = "hal"
BOARD = "board"
MBEDTLS = "Mbed TLS"
LWIP = "lwIP"
CJSON = "cJSON"
LIBC = "libc/libgcc/libstdc++"
OTHER = "other"

# Report order. The "agent code" goal is firmware + net + hal.
ORDER = (AGENT, NET, HAL, BOARD, MBEDTLS, LWIP, CJSON, LIBC, OTHER)
AGENT_CODE = (AGENT, NET, HAL)

_THIRD_PARTY = (
    (re.compile(r"^lib(sublink_)?(mbedtls|mbedcrypto|mbedx509)\.a$"), MBEDTLS),
    (re.compile(r"^lib(sublink_)?lwip\.a$"), LWIP),
    (re.compile(r"^lib(sublink_)?cjson\.a$", re.IGNORECASE), CJSON),
)
_TOOLCHAIN_ARCHIVE = re.compile(r"^lib(c|c_nano|g|g_nano|m|nosys|rdimon|rdimon_nano|gcc|stdc\+\+|stdc\+\+_nano|"
                                r"supc\+\+|supc\+\+_nano)\.a$")
_TOOLCHAIN_OBJECT = re.compile(r"^(crt\w*|rdimon-crt0\w*)\.o$")
_SOURCE_FOLDER = re.compile(r"(?:^|/)(firmware|net|hal|boards)/")
_BY_FOLDER = {"firmware": AGENT, "net": NET, "hal": HAL, "boards": BOARD}


def split_path(path):
    """(archive or object path, member or None) of an ld input name such as
    `net/tls/libsublink_tls.a(tls_arena.cpp.obj)`."""
    m = re.fullmatch(r"(.*\.a)\((.*)\)", path)
    return (m.group(1), m.group(2)) if m else (path, None)


def classify(path, build_dir=None):
    """The component of an input section from ld's path for it. Paths in
    the build tree are taken relative to build_dir when given, so folders
    above the build tree cannot be mistaken for source folders."""
    if path in ("linker stubs", ""):
        return OTHER
    container, _ = split_path(path)
    base = os.path.basename(container)
    for pattern, component in _THIRD_PARTY:
        if pattern.match(base):
            return component
    if _TOOLCHAIN_ARCHIVE.match(base) or _TOOLCHAIN_OBJECT.match(base) or "/arm-none-eabi/" in container:
        return LIBC
    if build_dir and os.path.isabs(container):
        root = os.path.abspath(build_dir) + os.sep
        if not container.startswith(root):
            return OTHER
        container = container[len(root):]
    m = _SOURCE_FOLDER.search(container)
    return _BY_FOLDER[m.group(1)] if m else OTHER
