"""Small helpers shared by the sandbox tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from exact_sandbox import SandboxServer
from exact_sandbox.testing import connect


class Api:
    """requests against one sandbox with one access token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def headers(self, **extra: str) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **extra}

    def get(self, path: str, params: dict | None = None, **headers: str) -> requests.Response:
        return requests.get(
            f"{self.url}/api/v1/{path}", params=params, headers=self.headers(**headers), timeout=10
        )

    def post(self, path: str, body: object, representation: bool = True) -> requests.Response:
        headers = self.headers(**{"Content-Type": "application/json"})
        if representation:
            headers["Prefer"] = "return=representation"
        return requests.post(f"{self.url}/api/v1/{path}", json=body, headers=headers, timeout=10)

    def get_all(self, path: str, params: dict) -> list[dict]:
        """Follow __next to the end; returns every row."""
        rows: list[dict] = []
        response = self.get(path, params)
        while True:
            assert response.status_code == 200, response.text
            page = response.json()["d"]
            rows += page["results"]
            if not page.get("__next"):
                return rows
            response = requests.get(page["__next"], headers=self.headers(), timeout=10)


def api_for(
    server: SandboxServer,
    username: str = "accountant",
    password: str | None = None,
    divisions: list[int] | None = None,
) -> Api:
    tokens = connect(server.url, username, password or username, divisions)
    return Api(server.url, tokens["access_token"])


DIVISION = 3001101


def first(api: Api, path: str, select: str, filter_: str | None = None) -> dict:
    params = {"$select": select}
    if filter_:
        params["$filter"] = filter_
    rows = api.get(f"{DIVISION}/{path}", params).json()["d"]["results"]
    return rows[0]


def purchase(api: Api, **overrides: object) -> dict:
    supplier = first(api, "crm/Accounts", "ID", "IsSupplier eq true")
    gl = first(api, "financial/GLAccounts", "ID,Code", "Code eq '4300'")
    body = {
        "Journal": "60",
        "Supplier": supplier["ID"],
        "EntryDate": "2026-02-10",
        "YourRef": "PORTAL-0001",
        "Description": "Kantoorartikelen",
        "PurchaseEntryLines": [
            {
                "GLAccount": gl["ID"],
                "AmountFC": 100.0,
                "VATCode": "4",
                "Description": "Papier",
                "CostCenter": "100",
            },
            {"GLAccount": gl["ID"], "AmountFC": 50.0, "VATCode": "5"},
        ],
    }
    body.update(overrides)
    return body


# A division bigger than one page of most lists: 150 accounts, 2,500 lines, 70 GL accounts
BIG = {
    "divisions": [
        {
            "code": 777,
            "name": "Groot BV",
            "country": "NL",
            "seed": 42,
            "licence": "x",
            "volume": {"accounts": 150, "transaction_lines": 2500, "gl_accounts": 70},
        }
    ],
    "users": [{"username": "u", "password": "u", "divisions": [777], "language": "en-GB"}],
}


def rows_with_exactly(api: Api, path: str, select: str) -> list[dict]:
    """A page of ``path`` asked with ``$select``: it answers 200 with rows that carry exactly
    the selected fields (and ``__metadata``)."""
    response = api.get(path, {"$select": select})
    assert response.status_code == 200, response.text
    rows = response.json()["d"]["results"]
    assert rows
    assert set(rows[0]) == {"__metadata", *select.split(",")}
    return rows


@contextmanager
def sandbox_process(*options: str) -> Iterator[subprocess.Popen]:
    """``python -m exact_sandbox --port 0 OPTIONS`` running, its output a text pipe; stopped
    afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "exact_sandbox", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)
