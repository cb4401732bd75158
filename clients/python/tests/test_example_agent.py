"""examples/agent.py against a small API that verifies its tokens offline with this package."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gatehouse import DPoPContext, GatehouseError, KeySet, Verifier

EXAMPLE = Path(__file__).parent.parent / "examples" / "agent.py"


@pytest.fixture
def api(server, verifier_channel) -> Iterator[str]:
    """An HTTP API on loopback whose GET /orders needs orders:read, verified offline."""
    verifier = Verifier(server.issuer, server.audience, KeySet.from_channel(verifier_channel))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            url = f"http://{self.headers['Host']}{self.path}"
            proof = (
                DPoPContext(self.headers.get("DPoP", ""), "GET", url) if scheme == "DPoP" else None
            )
            try:
                claims = verifier.verify(token, required_scopes=["orders:read"], dpop=proof)
            except GatehouseError as error:
                self._answer(401, error.reason_name)
                return
            self._answer(200, f"orders of {claims['sub']}")

        def _answer(self, status: int, body: str) -> None:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/orders"
    httpd.shutdown()
    httpd.server_close()


def run_example(server, url: str, scope: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            url,
            "--gatehouse",
            server.address,
            "--ca",
            server.ca,
            "--cert",
            os.environ["GATEHOUSE_AGENT_CERT"],
            "--cert-key",
            os.environ["GATEHOUSE_AGENT_CERT_KEY"],
            "--agent-key",
            server.agent_key,
            "--did",
            server.agent_did,
            "--audience",
            server.audience,
            "--scope",
            scope,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_example_agent_calls_the_api(server, api: str) -> None:
    done = run_example(server, api, "orders:read")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"orders of {server.agent_did}"


def test_example_agent_reports_a_refusal(server, api: str) -> None:
    done = run_example(server, api, "payroll:write")
    assert done.returncode == 1
    assert "refused: REASON_SCOPE_NOT_ALLOWED" in done.stderr
