#!/usr/bin/env python3
"""An Auth4Agent-style agent client, written only from the wire shapes such servers use.

POST /v1/challenge {did} -> {challenge, nonce, expires_at}; sign the UTF-8 string
"auth4agents-challenge:<challenge>:<nonce>" with the agent's Ed25519 key; POST /v1/token
{did, scope, audience, ttl, proof: {type: "Ed25519Signature2020", created, proofPurpose:
"authentication", verificationMethod: "<did>#key-1", challenge, nonce, signature (standard
base64)}} -> {access_token, token_type, expires_in}; POST /v1/verify {token} -> {valid,
revoked, claims, verified_at}. No client certificate: the proof authenticates the agent.

It knows nothing of Gatehouse: it stands for the unchanged clients the sidecar must serve.
Prints {"token": …, "verify": …} as JSON; exits 1 when the server refuses.
"""

import argparse
import base64
import datetime
import json
import sys

import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--key", required=True, help="the agent's Ed25519 private key, PKCS#8 PEM")
    parser.add_argument("--did", required=True)
    parser.add_argument("--scope", required=True)
    parser.add_argument("--audience", required=True)
    args = parser.parse_args()

    with open(args.key, "rb") as handle:
        key = load_pem_private_key(handle.read(), password=None)

    def post(path, body):
        # verify per request: REQUESTS_CA_BUNDLE in the environment would win over a session's.
        answer = requests.post(f"{args.url}{path}", json=body, verify=args.ca, timeout=30)
        if answer.status_code != 200:
            print(json.dumps({"path": path, "status_code": answer.status_code, **answer.json()}))
            sys.exit(1)
        return answer.json()

    challenge = post("/v1/challenge", {"did": args.did})
    message = f"auth4agents-challenge:{challenge['challenge']}:{challenge['nonce']}"
    proof = {
        "type": "Ed25519Signature2020",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "proofPurpose": "authentication",
        "verificationMethod": f"{args.did}#key-1",
        "challenge": challenge["challenge"],
        "nonce": challenge["nonce"],
        "signature": base64.b64encode(key.sign(message.encode("utf-8"))).decode(),
    }
    token = post(
        "/v1/token",
        {"did": args.did, "scope": args.scope, "audience": args.audience, "ttl": 300, "proof": proof},
    )
    verified = post("/v1/verify", {"token": token["access_token"]})
    print(json.dumps({"token": token, "verify": verified}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
