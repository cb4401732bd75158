"""The agent side: login by signature challenge, DPoP-bound tokens, a token cache."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc

from . import signing_input
from .dpop import dpop_proof
from .errors import GatehouseError
from .keys import AgentKey
from .v1 import errors_pb2, gate_pb2, gate_pb2_grpc


@dataclass(frozen=True)
class Token:
    """An issued access token."""

    access_token: str
    #: ``Bearer``, or ``DPoP`` for a token bound to the agent's key (RFC 9449 §5).
    token_type: str
    #: Unix seconds.
    expires_at: float
    scopes: tuple[str, ...]
    audience: str
    #: The issuer the challenge named (the token's ``iss``).
    issuer: str
    #: A server nonce for the next DPoP proof (RFC 9449 §8), when the server uses nonces.
    dpop_nonce: str = ""


class SigningInputMismatchError(Exception):
    """The server asked the agent to sign bytes that do not bind what it asked for."""


class Agent:
    """One registered agent: its key, its DID, and a channel presenting its certificate.

    ``login`` runs Challenge (signature kind) → Submit → Token; ``token`` returns a cached token
    while it has more than ``refresh_margin`` seconds left (at most half its lifetime), logging
    in again otherwise — once, whatever the number of threads asking (single flight).
    """

    def __init__(
        self,
        key: AgentKey,
        did: str,
        channel: grpc.Channel,
        *,
        refresh_margin: float = 30.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.did = did
        self._gate = gate_pb2_grpc.GateServiceStub(channel)
        self._refresh_margin = refresh_margin
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[tuple[str, ...], str, bool], tuple[Token, float]] = {}

    def login(self, scopes: Sequence[str], audience: str, *, dpop: bool = False) -> Token:
        """Log in for ``scopes`` and ``audience`` (both within the agent's policy).

        With ``dpop`` the token is bound to the agent's key (``cnf.jkt``): present it as
        ``Authorization: DPoP <token>`` with a fresh proof per request (:meth:`dpop_proof`).
        Raises :class:`GatehouseError` with the server's reason on a refusal, and
        :class:`SigningInputMismatchError` rather than sign bytes it did not ask for.
        """
        try:
            return self._login(list(scopes), audience, dpop)
        except grpc.RpcError as error:
            raise GatehouseError.from_rpc_error(error) from None

    def _login(self, scopes: list[str], audience: str, dpop: bool) -> Token:
        challenge = self._gate.Challenge(
            gate_pb2.ChallengeRequest(
                did=self.did,
                kind=gate_pb2.CHALLENGE_KIND_SIGNATURE,
                scopes=scopes,
                audience=audience,
            ),
            timeout=self._timeout,
        )
        if challenge.WhichOneof("body") != "signature":
            raise SigningInputMismatchError("expected a signature challenge")
        body = challenge.signature
        rebuilt = signing_input.challenge(
            issuer=body.issuer,
            challenge_id=challenge.challenge_id,
            did=self.did,
            caller=body.caller,
            scopes=scopes,
            audience=audience,
            expires_at_ms=challenge.expires_at.ToMilliseconds(),
        )
        # Not a secret comparison, but a constant-time one costs nothing.
        if not hmac.compare_digest(rebuilt, body.signing_input):
            raise SigningInputMismatchError("challenge signing input does not match the request")
        submitted = self._gate.Submit(
            gate_pb2.SubmitRequest(
                challenge_id=challenge.challenge_id,
                signature=gate_pb2.SignatureAnswer(signature=self.key.sign(rebuilt)),
            ),
            timeout=self._timeout,
        )
        request = gate_pb2.TokenRequest(pass_token=submitted.pass_token)
        issued = self._token(request, dpop, body.issuer)
        return Token(
            access_token=issued.access_token,
            token_type=issued.token_type,
            expires_at=issued.expires_at.ToMilliseconds() / 1000,
            scopes=tuple(issued.scopes),
            audience=issued.audience,
            issuer=body.issuer,
            dpop_nonce=issued.dpop_nonce,
        )

    def _token(
        self, request: gate_pb2.TokenRequest, dpop: bool, issuer: str
    ) -> gate_pb2.TokenResponse:
        """Call Token. With ``dpop`` the request carries a proof (TokenRequest.dpop_proof: htm
        POST, htu the issuer with path /v1/tokens); when the server answers that it wants a
        nonce, the call is made once more with a proof carrying it (RFC 9449 §8). The server
        checks the proof before it redeems the pass, so the pass is still unspent then."""
        nonce: str | None = None
        for attempt in range(2):
            if dpop:
                request.dpop_proof = dpop_proof(
                    self.key, "POST", f"{issuer}/v1/tokens", nonce=nonce
                )
            try:
                return self._gate.Token(request, timeout=self._timeout)
            except grpc.RpcError as error:
                refused = GatehouseError.from_rpc_error(error)
                wants_nonce = refused.reason == errors_pb2.REASON_DPOP_NONCE_REQUIRED
                if not (dpop and attempt == 0 and wants_nonce and refused.dpop_nonce):
                    raise refused from None
                nonce = refused.dpop_nonce
        raise AssertionError("unreachable")

    def token(self, scopes: Sequence[str], audience: str, *, dpop: bool = False) -> Token:
        """A cached token for ``scopes`` and ``audience``, refreshed before it expires."""
        key = (tuple(sorted(scopes)), audience, dpop)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and self._clock() < cached[1]:
                return cached[0]
            token = self.login(scopes, audience, dpop=dpop)
            lifetime = token.expires_at - self._clock()
            refresh_at = token.expires_at - min(self._refresh_margin, lifetime / 2)
            self._cache[key] = (token, refresh_at)
            return token

    def dpop_proof(self, method: str, url: str, token: Token | None = None) -> str:
        """A DPoP proof for one request, with ``ath`` for ``token`` when given (RFC 9449 §4.2)."""
        return dpop_proof(
            self.key,
            method,
            url,
            access_token=token.access_token if token else None,
            nonce=(token.dpop_nonce or None) if token else None,
        )

    def headers(self, method: str, url: str, token: Token) -> dict[str, str]:
        """The ``Authorization`` (and, for a DPoP token, ``DPoP``) headers of one HTTP request."""
        headers = {"Authorization": f"{token.token_type} {token.access_token}"}
        if token.token_type == "DPoP":
            headers["DPoP"] = self.dpop_proof(method, url, token)
        return headers
