"""Pure parts, with published vectors: no server needed."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gatehouse import AgentKey, dpop_proof, signing_input


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def rfc8037_key() -> AgentKey:
    """RFC 8037 Appendix A.1's private key."""
    seed = _b64("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
    return AgentKey(Ed25519PrivateKey.from_private_bytes(seed))


def test_thumbprint_matches_rfc8037_a3() -> None:
    assert rfc8037_key().jwk["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    assert rfc8037_key().thumbprint == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_dpop_proof_shape() -> None:
    key = rfc8037_key()
    proof = dpop_proof(
        key,
        "GET",
        "https://api.example.com/orders",
        access_token="token",
        nonce="n1",
        now=1_700_000_000,
    )
    head, body, signature = proof.split(".")
    header, claims = json.loads(_b64(head)), json.loads(_b64(body))
    assert header == {"typ": "dpop+jwt", "alg": "EdDSA", "jwk": key.jwk}
    assert claims["htm"] == "GET" and claims["htu"] == "https://api.example.com/orders"
    assert claims["iat"] == 1_700_000_000 and claims["nonce"] == "n1" and claims["jti"]
    # RFC 9449 §4.2: ath = base64url(SHA-256("token")).
    assert claims["ath"] == "PEaenWxYddN6Q_NT1PiOYfz4EsZu7jRXRlpAsNpBU-A"
    key.private_key.public_key().verify(_b64(signature), f"{head}.{body}".encode())


def test_signing_input_layout() -> None:
    encoded = signing_input.encode("challenge", [("did", "d"), ("scopes", "a b")])
    assert encoded == (
        b"GATEHOUSE-SIG\x00v1\x00challenge\x00did\x00\x00\x00\x00\x01dscopes\x00\x00\x00\x00\x03a b"
    )
    assert signing_input.challenge(
        issuer="i",
        challenge_id="c",
        did="d",
        caller="x",
        scopes=["b", "a"],
        audience="u",
        expires_at_ms=5,
    ) == signing_input.encode(
        "challenge",
        [
            ("issuer", "i"),
            ("challenge_id", "c"),
            ("did", "d"),
            ("caller", "x"),
            ("scopes", "a b"),
            ("audience", "u"),
            ("expires_at", "5"),
        ],
    )


def test_did_derivation() -> None:
    key = rfc8037_key()
    assert (
        key.did("example.com")
        == "did:agent:example.com:" + hashlib.sha256(key.public_key).digest()[:16].hex()
    )
