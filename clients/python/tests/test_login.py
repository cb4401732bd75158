"""The whole agent login and verification against a real Gatehouse."""

from __future__ import annotations

import time

import pytest

from gatehouse import Agent, AgentKey, DPoPContext, GatehouseError, KeySet, Verifier, dpop_proof
from gatehouse.v1 import (
    errors_pb2,
    registry_pb2,
    registry_pb2_grpc,
    resources_pb2,
    verify_pb2,
    verify_pb2_grpc,
)

RESOURCE = "https://api.example.com/orders"


def test_login_bearer_verifies_online_and_offline(server, agent: Agent, verifier_channel) -> None:
    token = agent.login(server.scopes[:1], server.audience)
    assert token.token_type == "Bearer"
    assert token.issuer == server.issuer

    online = verify_pb2_grpc.VerifyServiceStub(verifier_channel).Verify(
        verify_pb2.VerifyRequest(
            token=token.access_token, audience=server.audience, required_scopes=server.scopes[:1]
        )
    )
    assert online.allowed, errors_pb2.Reason.Name(online.reason)
    assert online.agent_did == server.agent_did

    claims = Verifier(server.issuer, server.audience, KeySet.from_channel(verifier_channel)).verify(
        token.access_token, required_scopes=server.scopes[:1]
    )
    assert claims["sub"] == server.agent_did
    assert claims["jti"] == online.token_id


def test_dpop_bound_login_and_verify(server, agent: Agent, verifier_channel) -> None:
    token = agent.login(server.scopes[:1], server.audience, dpop=True)
    assert token.token_type == "DPoP"
    proof = agent.dpop_proof("GET", RESOURCE, token)
    verify = verify_pb2_grpc.VerifyServiceStub(verifier_channel)

    online = verify.Verify(
        verify_pb2.VerifyRequest(
            token=token.access_token,
            audience=server.audience,
            dpop_proof=proof,
            http_method="GET",
            http_url=RESOURCE,
        )
    )
    assert online.allowed, errors_pb2.Reason.Name(online.reason)
    # The same proof again is a replay (RFC 9449 §11.1): the server remembers its jti.
    replay = verify.Verify(
        verify_pb2.VerifyRequest(
            token=token.access_token,
            audience=server.audience,
            dpop_proof=proof,
            http_method="GET",
            http_url=RESOURCE,
        )
    )
    assert not replay.allowed
    assert replay.reason == errors_pb2.REASON_DPOP_REPLAYED
    bare = verify.Verify(
        verify_pb2.VerifyRequest(token=token.access_token, audience=server.audience)
    )
    assert bare.reason == errors_pb2.REASON_TOKEN_BOUND_TO_KEY

    verifier = Verifier(server.issuer, server.audience, KeySet.from_channel(verifier_channel))
    claims = verifier.verify(token.access_token, dpop=DPoPContext(proof, "GET", RESOURCE))
    assert claims["cnf"]["jkt"] == agent.key.thumbprint
    with pytest.raises(GatehouseError) as without:
        verifier.verify(token.access_token)
    assert without.value.reason == errors_pb2.REASON_TOKEN_BOUND_TO_KEY
    with pytest.raises(GatehouseError) as other_method:
        verifier.verify(token.access_token, dpop=DPoPContext(proof, "POST", RESOURCE))
    assert other_method.value.reason == errors_pb2.REASON_DPOP_INVALID
    other_key = Agent(AgentKey.generate(), agent.did, verifier_channel)
    with pytest.raises(GatehouseError) as foreign:
        verifier.verify(
            token.access_token,
            dpop=DPoPContext(other_key.dpop_proof("GET", RESOURCE, token), "GET", RESOURCE),
        )
    assert foreign.value.reason == errors_pb2.REASON_DPOP_INVALID


def test_dpop_nonces_follow_the_server(server, agent: Agent, verifier_channel) -> None:
    """With server nonces on, login's first Token call is refused for want of a nonce and made
    again with it; the response carries the nonce for the next proof, and a proof without it is
    refused. With nonces off, there is none."""
    token = agent.login(server.scopes[:1], server.audience, dpop=True)
    assert bool(token.dpop_nonce) == server.dpop_nonces
    bare_proof = dpop_proof(agent.key, "GET", RESOURCE, access_token=token.access_token)
    answer = verify_pb2_grpc.VerifyServiceStub(verifier_channel).Verify(
        verify_pb2.VerifyRequest(
            token=token.access_token,
            audience=server.audience,
            dpop_proof=bare_proof,
            http_method="GET",
            http_url=RESOURCE,
        )
    )
    if server.dpop_nonces:
        assert not answer.allowed
        assert answer.reason == errors_pb2.REASON_DPOP_NONCE_REQUIRED
        assert answer.dpop_nonce
    else:
        assert answer.allowed, errors_pb2.Reason.Name(answer.reason)


def test_token_cache_reuses_until_refresh(server, agent: Agent) -> None:
    now = [time.time()]
    channel = server.channel("AGENT")
    cached = Agent(agent.key, agent.did, channel, refresh_margin=30, clock=lambda: now[0])
    try:
        first = cached.token(server.scopes[:1], server.audience)
        assert cached.token(server.scopes[:1], server.audience) is first
        assert cached.token(server.scopes, server.audience) is not first
        now[0] = first.expires_at - 31
        assert cached.token(server.scopes[:1], server.audience) is first
        now[0] = first.expires_at - 29  # within the refresh margin: logs in again
        second = cached.token(server.scopes[:1], server.audience)
        assert second is not first
        assert second.access_token != first.access_token
    finally:
        channel.close()


def test_offline_verifier_refuses_in_order(server, agent: Agent, verifier_channel) -> None:
    token = agent.login(server.scopes[:1], server.audience)
    keys = KeySet.from_channel(verifier_channel)
    head, body, signature = token.access_token.split(".")
    tampered = f"{head}.{body}.{('B' if signature[0] == 'A' else 'A')}{signature[1:]}"
    cases = [
        (
            Verifier(server.issuer, server.audience, keys),
            "not-a-token",
            {},
            errors_pb2.REASON_TOKEN_MALFORMED,
        ),
        (
            Verifier(server.issuer, server.audience, keys),
            tampered,
            {},
            errors_pb2.REASON_TOKEN_BAD_SIGNATURE,
        ),
        (
            Verifier("https://elsewhere.test", server.audience, keys),
            token.access_token,
            {},
            errors_pb2.REASON_TOKEN_ISSUER_MISMATCH,
        ),
        (
            Verifier(server.issuer, "https://other.example.com", keys),
            token.access_token,
            {},
            errors_pb2.REASON_TOKEN_AUDIENCE_MISMATCH,
        ),
        (
            Verifier(server.issuer, server.audience, keys, clock=lambda: token.expires_at + 120),
            token.access_token,
            {},
            errors_pb2.REASON_TOKEN_EXPIRED,
        ),
        (
            Verifier(server.issuer, server.audience, keys),
            token.access_token,
            {"required_scopes": ["orders:delete"]},
            errors_pb2.REASON_INSUFFICIENT_SCOPE,
        ),
    ]
    for verifier, presented, options, reason in cases:
        with pytest.raises(GatehouseError) as refused:
            verifier.verify(presented, **options)
        assert refused.value.reason == reason, refused.value.reason_name


def test_refusal_carries_its_reason(server, agent: Agent) -> None:
    with pytest.raises(GatehouseError) as refused:
        agent.login(["payroll:write"], server.audience)
    assert refused.value.reason == errors_pb2.REASON_SCOPE_NOT_ALLOWED
    assert refused.value.code is not None and refused.value.code.name == "PERMISSION_DENIED"


def test_register_agent_with_proof_of_possession(server) -> None:
    channel = server.channel("OPERATOR")
    registry = registry_pb2_grpc.RegistryServiceStub(channel)
    key = AgentKey.generate()
    did = key.did(server.operator_domain)
    request = registry_pb2.RegisterAgentRequest(
        did=did,
        public_key=key.public_key,
        proof_of_possession=key.proof_of_possession(did, "someone-else.example.com"),
        policy=resources_pb2.Policy(scopes=server.scopes, audiences=[server.audience]),
        display_name="python sdk agent",
    )
    try:
        with pytest.raises(Exception) as refused:
            registry.RegisterAgent(request)
        assert GatehouseError.from_rpc_error(refused.value).reason != errors_pb2.REASON_UNSPECIFIED
        request.proof_of_possession = key.proof_of_possession(did, server.operator_domain)
        assert registry.RegisterAgent(request) is not None
    finally:
        channel.close()
