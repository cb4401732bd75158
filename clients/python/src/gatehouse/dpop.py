"""DPoP proofs (RFC 9449): one signed JWT per request, proving possession of the agent's key."""

from __future__ import annotations

import hashlib
import json
import secrets
import time

from .keys import AgentKey, b64url


def access_token_hash(access_token: str) -> str:
    """The ``ath`` claim: base64url(SHA-256(ASCII(access token))) (RFC 9449 §4.2)."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def dpop_proof(
    key: AgentKey,
    method: str,
    url: str,
    *,
    access_token: str | None = None,
    nonce: str | None = None,
    now: float | None = None,
) -> str:
    """Sign a DPoP proof for one request (RFC 9449 §4.2).

    ``typ`` ``dpop+jwt``, ``alg`` EdDSA, the public key as ``jwk``; claims ``jti`` (random),
    ``htm`` (``method``), ``htu`` (``url``, which must have no query or fragment), ``iat``, and
    ``ath`` when ``access_token`` goes with the request, ``nonce`` when the server asked for one
    (§8). Never reuse a proof.
    """
    header = {"typ": "dpop+jwt", "alg": "EdDSA", "jwk": key.jwk}
    claims: dict[str, object] = {
        "jti": b64url(secrets.token_bytes(16)),
        "htm": method,
        "htu": url,
        "iat": int(time.time() if now is None else now),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce

    def segment(value: object) -> str:
        return b64url(json.dumps(value, separators=(",", ":")).encode())

    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"
