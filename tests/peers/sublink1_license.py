"""Licenses as a sublink/1 server issues them (PROTOCOL.md section 4).

The license is compact JSON bytes; `license_grant` carries those bytes and an
ES256 signature over them, both base64url. The signature is the raw r||s form
(64 bytes), not the DER that signing libraries return, so it is converted here.
Kept apart from the server so the signing can be checked on its own.
"""
import base64
import hashlib
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64url(data, padded=False):
    """base64url (RFC 4648 section 5); unpadded unless `padded`, as JOSE does."""
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if padded else text.rstrip("=")


class LicenseSigner:
    """Signs license JSON with the license private key (EC P-256, ES256)."""

    def __init__(self, key_path, kid=None, padded=False):
        with open(key_path, "rb") as f:
            self._key = serialization.load_pem_private_key(f.read(), password=None)
        if not isinstance(self._key, ec.EllipticCurvePrivateKey) or self._key.curve.name != "secp256r1":
            raise ValueError("license key must be an EC P-256 private key")
        public_der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        # Without a configured kid, name the key by its public half so a
        # rotated key gets a different kid.
        self.kid = kid or hashlib.sha256(public_der).hexdigest()[:16]
        self._padded = padded

    def sign_raw(self, data):
        """ES256 over `data` as 64 bytes r||s (each big-endian, 32 bytes)."""
        der = self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def grant_fields(self, license_bytes):
        """The signed part of a `license_grant` for the exact `license_bytes`."""
        return {
            "license": b64url(license_bytes, self._padded),
            "sig": b64url(self.sign_raw(license_bytes), self._padded),
            "alg": "ES256",
            "kid": self.kid,
        }


def license_bytes(serial, customer_id, system_id, issued, not_before, expires, features):
    """Compact JSON bytes of one license; `features` is [(name, qty), ...]."""
    body = {
        "serial": serial,
        "customer_id": customer_id,
        "system_id": system_id,
        "issued": issued,
        "not_before": not_before,
        "expires": expires,
        "features": [{"name": n, "qty": q} for n, q in features],
    }
    return json.dumps(body, separators=(",", ":")).encode("utf-8")
