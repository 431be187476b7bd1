"""Starting the sandbox on its own, and the big-division sizes."""

from __future__ import annotations

import re
import time

import requests
from click.testing import CliRunner
from exact_sandbox import start_sandbox_in_thread
from exact_sandbox.cli import describe, sandbox_command
from exact_sandbox.config import default_config, load_config
from exact_sandbox.data import DivisionData
from exact_sandbox.testing import frozen_clock

from .helpers import api_for, sandbox_process


def test_command_has_the_documented_options():
    result = CliRunner().invoke(sandbox_command, ["--help"])
    assert result.exit_code == 0
    for option in ("--port", "--host", "--config", "--speed"):
        assert option in result.output
    assert sandbox_command.name == "sandbox"


def test_description_names_url_client_and_redirect():
    text = "\n".join(describe("http://127.0.0.1:5055", default_config()))
    assert "http://127.0.0.1:5055/api/oauth2/auth" in text
    assert "sandbox-demo-client" in text and "sandbox-demo-secret" in text
    assert "http://127.0.0.1:5000/exact/callback" in text


def test_python_dash_m_serves_until_stopped(tmp_path):
    config = tmp_path / "sandbox.json"
    config.write_text('{"limits": {"minutely": 7}}')
    with sandbox_process("--config", str(config), "--speed", "0") as process:
        first_line = process.stdout.readline()
        url = re.search(r"http://\S+", first_line).group(0)
        assert requests.get(f"{url}/", timeout=10).json()["apps"] == ["sandbox-demo-client"]
        assert requests.get(f"{url}/_sandbox/clock", timeout=10).json()["speed"] == 0


def test_config_file_overlays_the_default(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"limits": {"daily": 10}}')
    config = load_config(path)
    assert config["limits"] == {**default_config()["limits"], "daily": 10}
    assert config["apps"][0]["client_id"] == "sandbox-demo-client"


def test_big_division_generates_in_seconds_and_serves_fast_pages():
    started = time.perf_counter()
    data = DivisionData(
        {
            "code": 1,
            "seed": 9,
            "years": [2025, 2026],
            "volume": {"transaction_lines": 200_000, "accounts": 20_000, "gl_accounts": 300},
        }
    )
    assert time.perf_counter() - started < 5
    assert data.tables["TransactionLines"].live_count() == 200_000
    assert data.tables["Accounts"].live_count() == 20_000
    config = {
        "divisions": [
            {
                "code": 9,
                "name": "Big",
                "seed": 9,
                "licence": "x",
                "volume": {"transaction_lines": 200_000, "accounts": 20_000},
            }
        ],
        "users": [{"username": "u", "password": "u", "divisions": [9]}],
    }
    server = start_sandbox_in_thread(config, clock=frozen_clock())
    try:
        api = api_for(server, "u")
        params = {
            "$select": "ID,EntryID,LineNumber,GLAccount,AmountDC,Date,Timestamp",
            "$filter": "Timestamp gt 150000L",
        }
        api.get("9/sync/Financial/TransactionLines", params)  # generation happens here
        started = time.perf_counter()
        response = api.get("9/sync/Financial/TransactionLines", params)
        elapsed = time.perf_counter() - started
        assert len(response.json()["d"]["results"]) == 1000
        assert elapsed < 1.0  # typically ~30 ms; generous so slow CI machines pass
    finally:
        server.stop()
