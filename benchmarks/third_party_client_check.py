"""Does an independent Exact Online client accept the sandbox? (ossobv's ``exactonline``)

The library is used unchanged; only its three URLs point at the sandbox. It insists on HTTPS
with a verified certificate, so the sandbox is served over TLS with a throwaway self-signed
certificate (``exact_sandbox.tls``, as ``portal sandbox --tls-self-signed``) that is trusted
through ``SSL_CERT_FILE``.
It is not a project dependency: install it somewhere throwaway and point at it, e.g.

    pip install --target /tmp/eol exactonline==0.4.0
    python benchmarks/third_party_client_check.py --extra-path /tmp/eol

Prints one line per step and never fails a build (exit code 0 unless --strict).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exact_sandbox import start_sandbox_in_thread  # noqa: E402
from exact_sandbox.testing import (  # noqa: E402
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    advance_clock,
    follow_authorize_url,
)
from exact_sandbox.tls import make_certificate, server_context  # noqa: E402

DIVISION = 3001101


def storage_for(url: str, folder: Path):
    from exactonline.storage.ini import IniStorage

    ini = folder / "exactonline.ini"
    ini.write_text(
        "[server]\n"
        f"auth_url = {url}/api/oauth2/auth\n"
        f"rest_url = {url}/api\n"
        f"token_url = {url}/api/oauth2/token\n"
        "[application]\n"
        f"base_url = {DEMO_REDIRECT_URI}\n"
        f"client_id = {DEMO_CLIENT_ID}\n"
        f"client_secret = {DEMO_CLIENT_SECRET}\n"
    )
    return IniStorage(str(ini))


def run_checks(url: str, folder: Path) -> list[tuple[str, bool, str]]:
    from exactonline.api import ExactApi
    from exactonline.resource import GET

    results: list[tuple[str, bool, str]] = []

    def step(name: str, action):
        try:
            detail = action()
            results.append((name, True, str(detail)))
        except Exception as error:  # report every failure and go on
            results.append((name, False, f"{type(error).__name__}: {error}"[:300]))

    api = ExactApi(storage=storage_for(url, folder))
    code_holder: dict = {}

    def authorize():
        code = follow_authorize_url(api.create_auth_request_url())
        code_holder["code"] = code
        api.request_token(code)
        return f"code with '!': {'!' in code}; token stored"

    def divisions():
        choices, current = api.get_divisions()
        return f"current {current}; {len(choices)} divisions: {sorted(choices)}"

    def select_division():
        api.set_division(DIVISION)
        return f"division {api.storage.get_division()} accepted"

    def refresh():
        before = api.storage.get_refresh_token()
        advance_clock(url, 570)
        api.refresh_token()
        after = api.storage.get_refresh_token()
        me = api.rest(GET("v1/current/Me?$select=UserName"))
        return f"rotated: {before != after}; Me after refresh: {me[0]['UserName']}"

    def sync_paging():
        rows = api.restv1(
            GET(
                "sync/Financial/TransactionLines?$select=ID,Timestamp,AmountDC"
                "&$filter=Timestamp%20gt%201L"
            )
        )
        stamps = [row["Timestamp"] for row in rows]
        ordered = stamps == sorted(stamps)
        return f"{len(rows)} rows over {(len(rows) + 999) // 1000} pages, ordered: {ordered}"

    def ledger_accounts():
        rows = api.ledgeraccounts.all()
        return f"{len(rows)} GL accounts via the library's own manager"

    def ledger_codes():
        rows = api.ledgeraccounts.filter(code__in=["4300", "8000"])
        return f"code__in (an 'or' filter) found {sorted(row['Code'] for row in rows)}"

    def relations():
        rows = api.relations.filter(select="ID,Name")
        return f"{len(rows)} relations"

    step("authorize + code exchange", authorize)
    step("list divisions (current/Me, hrm/Divisions)", divisions)
    step("set division (crm/Accounts probe)", select_division)
    step("refresh token", refresh)
    step("page sync/Financial/TransactionLines", sync_paging)
    step("ledger accounts manager (financial/GLAccounts)", ledger_accounts)
    step("ledger accounts by code (or-filter)", ledger_codes)
    step("relations manager (crm/Accounts)", relations)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-path", help="folder holding the exactonline package")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a step fails")
    args = parser.parse_args()
    if args.extra_path:
        sys.path.append(args.extra_path)
    try:
        import exactonline
    except ImportError:
        print("exactonline is not installed; see this script's docstring. Skipping.")
        return 0
    version = getattr(exactonline, "__version__", None) or _version()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        cert, key = make_certificate(folder)
        os.environ["SSL_CERT_FILE"] = str(cert)  # the library's default context trusts it
        context = server_context(cert, key)
        config = {"divisions": _divisions_with_volume(2_500)}
        server = start_sandbox_in_thread(config, ssl_context=context)
        try:
            print(f"exactonline {version} against the sandbox at {server.url}")
            results = run_checks(server.url, folder)
        finally:
            server.stop()
    for name, ok, detail in results:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    failed = [name for name, ok, _detail in results if not ok]
    print(f"{len(results) - len(failed)} of {len(results)} steps passed")
    return 1 if failed and args.strict else 0


def _divisions_with_volume(lines: int) -> list[dict]:
    from exact_sandbox import default_config

    divisions = default_config()["divisions"]
    for division in divisions:
        if division["code"] == DIVISION:
            division["volume"]["transaction_lines"] = lines
    return divisions


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("exactonline")
    except PackageNotFoundError:
        return "(unknown version)"


if __name__ == "__main__":
    sys.exit(main())
