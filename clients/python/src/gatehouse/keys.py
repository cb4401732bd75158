"""An agent's Ed25519 key (RFC 8032), its DID and its JWK thumbprint (RFC 7638)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import signing_input


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class AgentKey:
    """An agent's Ed25519 key pair. The private key never leaves the agent."""

    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> AgentKey:
        """A fresh key from the operating system's random source."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> AgentKey:
        """Read a PKCS #8 ``PRIVATE KEY`` PEM (what ``gatehouse agent keygen`` writes)."""
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("agent key: not an Ed25519 key")
        return cls(key)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AgentKey:
        """Read the key from a PEM file."""
        return cls.from_pem(Path(path).read_bytes())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the key as PKCS #8 PEM to a new file readable by its owner only (mode 0600)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(self.to_pem())

    def to_pem(self) -> bytes:
        """The private key as PKCS #8 PEM."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key (``RegisterAgentRequest.public_key``)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign(self, data: bytes) -> bytes:
        """A pure Ed25519 signature (RFC 8032 §5.1.6)."""
        return self.private_key.sign(data)

    def did(self, operator_domain: str) -> str:
        """``did:agent:<operator-domain>:<id>``: <id> is the hex of SHA-256(public key)[:16]."""
        return f"did:agent:{operator_domain}:{hashlib.sha256(self.public_key).digest()[:16].hex()}"

    def proof_of_possession(self, did: str, operator_domain: str) -> bytes:
        """The signature ``RegisterAgentRequest.proof_of_possession`` requires."""
        return self.sign(signing_input.registration(did, self.public_key, operator_domain))

    @property
    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 8037 §2)."""
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(self.public_key)}

    @property
    def thumbprint(self) -> str:
        """The RFC 7638 thumbprint: the ``cnf.jkt`` of a token bound to this key (RFC 9449 §6.1)."""
        return jwk_thumbprint(self.jwk)


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 §3 thumbprint of an OKP key: its required members, sorted, no whitespace."""
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"), sort_keys=True
    )
    return b64url(hashlib.sha256(canonical.encode()).digest())
