"""Gatehouse's versioned, domain-separated signing input (see ``gatehouse.v1.SignatureChallenge``).

::

    "GATEHOUSE-SIG" 0x00 "v1" 0x00 <purpose> 0x00
    then per field, in order: <name> 0x00 <uint32 big-endian byte length> <value bytes>

Length prefixes make the encoding injective; the purpose keeps a challenge signature from ever
passing as a registration proof.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence


def encode(purpose: str, fields: Iterable[tuple[str, str]]) -> bytes:
    """Encode a signing input for ``purpose`` from ``(name, value)`` pairs, in order."""
    out = bytearray(b"GATEHOUSE-SIG\x00v1\x00" + purpose.encode() + b"\x00")
    for name, value in fields:
        data = value.encode()
        out += name.encode() + b"\x00" + struct.pack(">I", len(data)) + data
    return bytes(out)


def challenge(
    *,
    issuer: str,
    challenge_id: str,
    did: str,
    caller: str,
    scopes: Sequence[str],
    audience: str,
    expires_at_ms: int,
) -> bytes:
    """The input a signature challenge asks the agent to sign (scopes sorted, space-separated)."""
    return encode(
        "challenge",
        [
            ("issuer", issuer),
            ("challenge_id", challenge_id),
            ("did", did),
            ("caller", caller),
            ("scopes", " ".join(sorted(scopes))),
            ("audience", audience),
            ("expires_at", str(expires_at_ms)),
        ],
    )


def registration(did: str, public_key: bytes, operator_domain: str) -> bytes:
    """The input ``RegisterAgentRequest.proof_of_possession`` signs."""
    return encode(
        "register-agent",
        [("did", did), ("public_key", public_key.hex()), ("operator", operator_domain)],
    )
