"""An agent that logs in to Gatehouse and calls an API with a DPoP-bound token.

    python examples/agent.py --gatehouse 127.0.0.1:7443 --ca ca.pem --cert agent.pem \\
        --cert-key agent-key.pem --agent-key agent-ed25519.pem --did did:agent:example.com:… \\
        --audience https://api.example.com --scope orders:read https://api.example.com/orders

Prints the API's answer; exits 1 with the reason when Gatehouse refuses.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request

from gatehouse import Agent, AgentKey, GatehouseError, secure_channel


def call(agent: Agent, url: str, scopes: list[str], audience: str) -> str:
    """GET ``url`` with a (cached) DPoP-bound token and a fresh proof for this request."""
    token = agent.token(scopes, audience, dpop=True)
    request = urllib.request.Request(url, headers=agent.headers("GET", url, token))
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--gatehouse", default="127.0.0.1:7443")
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True, help="the agent's client certificate (its DID)")
    parser.add_argument("--cert-key", required=True)
    parser.add_argument("--agent-key", required=True, help="the agent's Ed25519 key (PKCS #8 PEM)")
    parser.add_argument("--did", required=True)
    parser.add_argument("--audience", required=True)
    parser.add_argument("--scope", action="append", required=True)
    args = parser.parse_args(argv)

    channel = secure_channel(args.gatehouse, ca=args.ca, cert=args.cert, key=args.cert_key)
    agent = Agent(AgentKey.load(args.agent_key), args.did, channel)
    try:
        print(call(agent, args.url, args.scope, args.audience))
    except GatehouseError as error:
        print(f"refused: {error.reason_name}: {error.description}", file=sys.stderr)
        return 1
    except urllib.error.HTTPError as error:
        print(f"the API answered {error.code}: {error.read().decode()}", file=sys.stderr)
        return 1
    finally:
        channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
