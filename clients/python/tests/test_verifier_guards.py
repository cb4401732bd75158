"""Each guard of Verifier.verify alone, with a local key: no server needed."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gatehouse import GatehouseError, KeySet, Verifier
from gatehouse.keys import AgentKey, b64url
from gatehouse.v1 import errors_pb2, resources_pb2, verify_pb2

NOW = 1_800_000_000
ISSUER = "https://gatehouse.test"
AUDIENCE = "https://api.example.com"
SIGNER = AgentKey(Ed25519PrivateKey.generate())


class Jwks:
    """Serves SIGNER's public key as kid k1 and counts the fetches."""

    def __init__(self) -> None:
        self.fetches = 0

    def __call__(self) -> verify_pb2.GetJwksResponse:
        self.fetches += 1
        key = resources_pb2.Jwk(
            kty="OKP", crv="Ed25519", alg="EdDSA", use="sig", kid="k1", x=SIGNER.jwk["x"]
        )
        return verify_pb2.GetJwksResponse(keys=[key], cache_max_age_seconds=300)


def sign(header: dict, claims: dict) -> str:
    def segment(value: dict) -> str:
        return b64url(json.dumps(value).encode())

    signing_input = f"{segment(header)}.{segment(claims)}"
    return f"{signing_input}.{b64url(SIGNER.sign(signing_input.encode()))}"


def header(**changes: object) -> dict:
    return {"alg": "EdDSA", "typ": "at+jwt", "kid": "k1", **changes}


def claims(**changes: object) -> dict:
    base = {
        "iss": ISSUER,
        "sub": "did:agent:example.com:00",
        "aud": AUDIENCE,
        "scope": "orders:read",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 300,
        "jti": "t1",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not None}


def verifier(jwks: Jwks | None = None) -> Verifier:
    keys = KeySet(jwks or Jwks(), clock=lambda: NOW)
    return Verifier(ISSUER, AUDIENCE, keys, clock=lambda: NOW)


def test_the_untouched_token_verifies() -> None:
    assert verifier().verify(sign(header(), claims()))["sub"] == "did:agent:example.com:00"


@pytest.mark.parametrize(
    ("token_header", "token_claims", "reason"),
    [
        (header(alg="HS256"), claims(), errors_pb2.REASON_TOKEN_ALG_NOT_ALLOWED),
        (header(alg="none"), claims(), errors_pb2.REASON_TOKEN_ALG_NOT_ALLOWED),
        (header(jwk={"kty": "OKP"}), claims(), errors_pb2.REASON_TOKEN_HEADER_INVALID),
        (header(jku="https://evil.test/jwks"), claims(), errors_pb2.REASON_TOKEN_HEADER_INVALID),
        (header(crit=["x"]), claims(), errors_pb2.REASON_TOKEN_HEADER_INVALID),
        (header(typ="JWT"), claims(), errors_pb2.REASON_TOKEN_HEADER_INVALID),
        (header(kid="k2"), claims(), errors_pb2.REASON_TOKEN_KID_UNKNOWN),
        (header(), claims(sub=None), errors_pb2.REASON_TOKEN_CLAIMS_INVALID),
        (
            header(),
            claims(act={"sub": "did:agent:example.com:01"}),
            errors_pb2.REASON_TOKEN_CLAIMS_INVALID,
        ),
        (header(), claims(iss="https://elsewhere.test"), errors_pb2.REASON_TOKEN_ISSUER_MISMATCH),
        (header(), claims(aud=["https://other.test"]), errors_pb2.REASON_TOKEN_AUDIENCE_MISMATCH),
        (header(), claims(nbf=NOW + 120), errors_pb2.REASON_TOKEN_NOT_YET_VALID),
        (header(), claims(iat=NOW + 120), errors_pb2.REASON_TOKEN_NOT_YET_VALID),
        (header(), claims(exp=NOW - 60), errors_pb2.REASON_TOKEN_EXPIRED),
        (header(), claims(cnf={"jkt": "x"}), errors_pb2.REASON_TOKEN_BOUND_TO_KEY),
    ],
)
def test_each_guard_alone(token_header: dict, token_claims: dict, reason: int) -> None:
    with pytest.raises(GatehouseError) as refused:
        verifier().verify(sign(token_header, token_claims))
    assert refused.value.reason == reason, refused.value.reason_name


def test_unknown_kids_refetch_at_most_once_per_min_refresh() -> None:
    jwks = Jwks()
    now = [float(NOW)]
    keys = KeySet(jwks, min_refresh=30, clock=lambda: now[0])
    check = Verifier(ISSUER, AUDIENCE, keys, clock=lambda: now[0])
    unknown = sign(header(kid="nope"), claims())
    for _ in range(5):
        with pytest.raises(GatehouseError):
            check.verify(unknown)
    assert jwks.fetches == 1
    now[0] += 30
    with pytest.raises(GatehouseError):
        check.verify(unknown)
    assert jwks.fetches == 2


def test_only_the_canonical_spelling_verifies() -> None:
    token = sign(header(), claims())
    head, body, signature = token.split(".")
    for spelling in (f"{token}=", f"{head}.{body}.{signature}==", f"{head}=.{body}.{signature}"):
        with pytest.raises(GatehouseError) as refused:
            verifier().verify(spelling)
        assert refused.value.reason == errors_pb2.REASON_TOKEN_MALFORMED
