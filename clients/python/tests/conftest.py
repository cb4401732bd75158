"""Fixtures: the Gatehouse that test/sdk/python.test.ts starts, and channels to it.

These tests run against a real server; without one they fail (never skip) and say how to run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from gatehouse import Agent, AgentKey, secure_channel


@dataclass(frozen=True)
class Server:
    address: str
    ca: str
    issuer: str
    audience: str
    scopes: list[str]
    agent_did: str
    agent_key: str
    operator_domain: str
    #: The server asks for DPoP nonces (RFC 9449 §8); the suite runs both ways.
    dpop_nonces: bool

    def channel(self, role: str) -> grpc.Channel:
        """A channel presenting the certificate test/sdk/python.test.ts issued for ``role``."""
        return secure_channel(
            self.address,
            ca=self.ca,
            cert=_env(f"GATEHOUSE_{role}_CERT"),
            key=_env(f"GATEHOUSE_{role}_CERT_KEY"),
        )


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run these tests with `npx vitest run test/sdk/python.test.ts`, "
            "which starts a Gatehouse and enrolls the agent they log in as",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def server() -> Server:
    return Server(
        address=_env("GATEHOUSE_ADDRESS"),
        ca=_env("GATEHOUSE_CA"),
        issuer=_env("GATEHOUSE_ISSUER"),
        audience=_env("GATEHOUSE_AUDIENCE"),
        scopes=_env("GATEHOUSE_SCOPES").split(),
        agent_did=_env("GATEHOUSE_AGENT_DID"),
        agent_key=_env("GATEHOUSE_AGENT_KEY"),
        operator_domain=_env("GATEHOUSE_OPERATOR_DOMAIN"),
        dpop_nonces=_env("GATEHOUSE_DPOP_NONCES") == "on",
    )


@pytest.fixture
def agent(server: Server) -> Iterator[Agent]:
    channel = server.channel("AGENT")
    yield Agent(AgentKey.load(server.agent_key), server.agent_did, channel)
    channel.close()


@pytest.fixture
def verifier_channel(server: Server) -> Iterator[grpc.Channel]:
    channel = server.channel("VERIFIER")
    yield channel
    channel.close()
