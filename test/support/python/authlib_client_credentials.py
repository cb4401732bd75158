"""Authlib (a stock OAuth client no one here wrote) against Gatehouse's /oauth2/token.

client_credentials with private_key_jwt (RFC 7523 section 2.2): the agent's Ed25519 key
signs the client assertion (EdDSA), its certificate authenticates the TLS connection.
Prints the token response as JSON. Arguments: token endpoint, issuer (the assertion's
audience), client id (the agent's DID), agent key PEM, certificate PEM, its key PEM, CA
PEM, scope, resource.
"""

import json
import sys
import time

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import OKPKey


def main() -> None:
    endpoint, issuer, client_id, key_pem, cert, cert_key, ca, scope, resource = sys.argv[1:]
    with open(key_pem, "rb") as file:
        key = OKPKey.import_key(file.read())
    # Gatehouse pins the assertion's audience to its issuer identifier, and keeps assertions
    # short-lived; authlib's defaults are the token endpoint URL and one hour.
    auth = PrivateKeyJWT(token_endpoint=issuer, alg="EdDSA", claims={"exp": int(time.time()) + 60})
    session = OAuth2Session(client_id, key, token_endpoint_auth_method=auth, scope=scope)
    # Per request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
    token = session.fetch_token(
        endpoint,
        grant_type="client_credentials",
        resource=resource,
        cert=(cert, cert_key),
        verify=ca,
    )
    print(json.dumps(dict(token)))


if __name__ == "__main__":
    main()
