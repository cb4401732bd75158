"""Connections to Gatehouse's gRPC port, over mutual TLS."""

from __future__ import annotations

import os
from pathlib import Path

import grpc


def secure_channel(
    address: str,
    *,
    ca: str | os.PathLike[str],
    cert: str | os.PathLike[str],
    key: str | os.PathLike[str],
) -> grpc.Channel:
    """A gRPC channel presenting a client certificate (PEM files) and trusting Gatehouse's CA.

    Every caller needs a certificate from Gatehouse's CA: an agent's carries its DID as URI SAN.
    """
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(ca).read_bytes(),
        private_key=Path(key).read_bytes(),
        certificate_chain=Path(cert).read_bytes(),
    )
    return grpc.secure_channel(address, credentials)
