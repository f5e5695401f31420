"""A fresh test PKI for one run: tests/pki/make_pki.sh's CA, device and
license keys, plus a server certificate for the name and address the board
is told (make_pki.sh's own server certificate names only localhost)."""
import os
import subprocess
import time
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
MAKE_PKI = os.path.join(REPO, "tests", "pki", "make_pki.sh")


@dataclass(frozen=True)
class Pki:
    """Absolute paths of the files the server and the board are given."""
    ca: str
    device_cert: str
    device_key: str
    license_key: str
    license_pub: str
    server_cert: str
    server_key: str


def make(outdir, system_id, server_sans):
    """Creates the PKI in outdir for system_id; the server certificate gets
    subjectAltName server_sans (e.g. ("DNS:sublink.test", "IP:192.0.2.200"))
    and the first name as CN. Raises CalledProcessError with openssl's
    message on failure."""
    subprocess.run(["sh", MAKE_PKI, outdir, system_id], check=True, capture_output=True, text=True)
    d = os.path.abspath(outdir)
    key, csr, crt = (os.path.join(d, "server-board." + x) for x in ("key", "csr", "crt"))
    cn = server_sans[0].split(":", 1)[1]
    _run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
    os.chmod(key, 0o600)
    _run("openssl", "req", "-new", "-key", key, "-subj", "/CN=" + cn, "-addext",
        "subjectAltName=" + ",".join(server_sans), "-config", os.path.join(d, "ca.db", "ca.cnf"), "-out", csr)
    # The CA database make_pki.sh keeps issues it, so the certificate can
    # start a day back like the others: a board clock that trails the host's
    # by a little must not see it as not yet valid.
    _run("openssl", "ca", "-batch", "-notext", "-config", os.path.join(d, "ca.db", "ca.cnf"),
        "-cert", os.path.join(d, "ca.crt"), "-keyfile", os.path.join(d, "ca.key"), "-in", csr, "-out", crt,
        "-extensions", "server_ext", "-startdate", _utc(-86400), "-enddate", _utc(30 * 86400))
    os.unlink(csr)
    return Pki(ca=os.path.join(d, "ca.crt"), device_cert=os.path.join(d, "device.crt"),
               device_key=os.path.join(d, "device.key"), license_key=os.path.join(d, "license.key"),
               license_pub=os.path.join(d, "license.pub"), server_cert=crt, server_key=key)


def _run(*argv):
    subprocess.run(argv, check=True, capture_output=True, text=True)


def _utc(offset_s):
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() + offset_s))
