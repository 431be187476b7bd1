"""HTTPS for Exact clients that insist on a verified certificate: serve with a certificate of
one's own, or make a throwaway one for this machine (``portal sandbox --tls-self-signed DIR``).

Making one needs the ``cryptography`` package (the sandbox's ``tls`` extra); serving with a
given certificate needs only the standard library.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

HOSTS = ("localhost", "127.0.0.1", "::1")
CERT_NAME, KEY_NAME = "sandbox-cert.pem", "sandbox-key.pem"


def server_context(cert: str | Path, key: str | Path) -> ssl.SSLContext:
    """A TLS server context for the sandbox (a missing or mismatched file raises here)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context


def make_certificate(folder: str | Path, days: int = 30) -> tuple[Path, Path]:
    """A self-signed certificate for this machine (``localhost``, 127.0.0.1, ::1) and its key,
    written to ``folder``; a client trusts it through its CA-file setting (``SSL_CERT_FILE``,
    ``REQUESTS_CA_BUNDLE``). It is its own authority, so it is marked as one, with the key
    usages strict verifiers ask of an authority and of a server."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as error:  # pragma: no cover - the demo's environment has it
        raise RuntimeError(
            "Making a certificate needs the 'cryptography' package (pip install "
            "'exact-sandbox[tls]'); or pass --tls-cert and --tls-key of your own."
        ) from error
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Exact Online sandbox")])
    now = datetime.now(UTC)
    public = key.public_key()
    names = [_san(host, x509) for host in HOSTS]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_bytes)
    return cert_path, key_path


def _san(host: str, x509):
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)
