"""HTTPS for clients that insist on a verified certificate (issue 15, point 6): the sandbox
serves TLS with a certificate of one's own or a throwaway one it makes, verified for real."""

from __future__ import annotations

import re

import pytest
import requests
from click.testing import CliRunner
from exact_sandbox import start_sandbox_in_thread
from exact_sandbox.cli import sandbox_command
from exact_sandbox.testing import frozen_clock
from exact_sandbox.tls import make_certificate, server_context

from .helpers import api_for, sandbox_process


def test_a_throwaway_certificate_is_verified_by_a_client_that_trusts_it(tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    server = start_sandbox_in_thread(clock=frozen_clock(), ssl_context=server_context(cert, key))
    try:
        assert server.url.startswith("https://localhost:")
        with pytest.raises(requests.exceptions.SSLError):  # not trusted: refused, really verified
            requests.get(f"{server.url}/", timeout=10)
        assert requests.get(f"{server.url}/", verify=str(cert), timeout=10).status_code == 200
        ip_url = server.url.replace("localhost", "127.0.0.1")
        assert requests.get(f"{ip_url}/", verify=str(cert), timeout=10).status_code == 200
        # a client left unchanged, told to trust it the usual way (urllib and requests)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        api = api_for(server)  # the OAuth pages, the token and the API over HTTPS
        page = api.get("3001101/financialtransaction/TransactionLines", {"$select": "ID"})
        assert page.status_code == 200
        assert page.json()["d"]["__next"].startswith(f"{server.url}/api/v1/3001101/")
    finally:
        server.stop()


def test_the_command_makes_a_certificate_and_serves_https(tmp_path):
    with sandbox_process("--speed", "0", "--tls-self-signed", str(tmp_path / "tls")) as process:
        lines = []
        while not any("SSL_CERT_FILE=" in line for line in lines):
            lines.append(process.stdout.readline())
            assert lines[-1], "the command ended before saying how to trust its certificate"
        url = re.search(r"https://\S+", lines[0]).group(0)
        cert = re.search(r"SSL_CERT_FILE=(\S+)", lines[-1]).group(1)
        assert cert == str(tmp_path / "tls" / "sandbox-cert.pem")
        answer = requests.get(f"{url}/_sandbox/clock", verify=cert, timeout=10)
        assert answer.json()["speed"] == 0


@pytest.mark.parametrize(
    "options, message",
    [
        (["--tls-cert", "{cert}"], "--tls-cert and --tls-key go together"),
        (
            ["--tls-self-signed", "{folder}", "--tls-cert", "{cert}", "--tls-key", "{key}"],
            "not both",
        ),
    ],
)
def test_half_a_tls_setting_is_refused_with_words(tmp_path, options, message):
    cert, key = make_certificate(tmp_path)
    values = {"cert": cert, "key": key, "folder": tmp_path / "other"}
    result = CliRunner().invoke(
        sandbox_command, ["--port", "0", *(option.format(**values) for option in options)]
    )
    assert result.exit_code == 2 and message in result.output
