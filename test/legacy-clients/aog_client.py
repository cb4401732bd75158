#!/usr/bin/env python3
"""An AOG-style agent client, written only from the wire shapes older agent gates use.

GET /challenge?challenge_type=legacy -> {nonce, challenge_type, seed, iterations, deadline_ts,
issued_at}; the legacy puzzle is h = SHA-256(bytes.fromhex(seed)), then `iterations` more
rounds of SHA-256 over the raw digest; POST /task with the hex result. Identity is the TLS
client certificate, or (behind a TLS terminator) X-Client-Cert with X-Client-Cert-Sig, the
base64 HMAC-SHA256 of that header's value under the terminator's shared secret.

It knows nothing of Gatehouse: it stands for the unchanged clients the sidecar must serve.
Prints the /task answer as JSON; exits 1 when the gate refuses.
"""

import argparse
import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.parse

import requests


def iterative_hash(seed_hex, iterations):
    digest = hashlib.sha256(bytes.fromhex(seed_hex)).digest()
    for _ in range(iterations):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key")
    parser.add_argument("--header-secret")
    parser.add_argument("--type", default="legacy")
    args = parser.parse_args()

    session = requests.Session()
    verify = args.ca  # per request: REQUESTS_CA_BUNDLE in the environment would win over a session's
    if args.header_secret:
        with open(args.cert, encoding="utf-8") as handle:
            value = urllib.parse.quote(handle.read(), safe="")
        mac = hmac.new(args.header_secret.encode(), value.encode(), hashlib.sha256).digest()
        session.headers["X-Client-Cert"] = value
        session.headers["X-Client-Cert-Sig"] = base64.b64encode(mac).decode()
    else:
        session.cert = (args.cert, args.key)

    started = time.time()
    challenge = session.get(f"{args.url}/challenge", params={"challenge_type": args.type}, verify=verify, timeout=30)
    if challenge.status_code != 200:
        print(json.dumps({"status_code": challenge.status_code, **challenge.json()}))
        return 1
    body = challenge.json()
    task = {
        "nonce": body["nonce"],
        "challenge_type": body["challenge_type"],
        "result_hash": iterative_hash(body["seed"], body["iterations"]),
        "runtime_ms": int((time.time() - started) * 1000),
        "client_fingerprint": hashlib.sha256(args.cert.encode()).hexdigest(),
    }
    answer = session.post(f"{args.url}/task", json=task, verify=verify, timeout=30)
    print(json.dumps(answer.json()))
    return 0 if answer.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
