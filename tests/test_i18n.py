"""Dutch and English: the user's choice, else the browser's language; a complete catalog."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.factories import make_user_with_account

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "portal" / "translations" / "nl" / "LC_MESSAGES"


def test_english_by_default(client):
    assert b"Forgot your password?" in client.get("/login").data


def test_browser_language_is_the_default(client):
    page = client.get("/login", headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})
    assert b"Wachtwoord vergeten?" in page.data
    assert b'<html lang="nl">' in page.data


def test_a_visitors_choice_beats_the_browser(client):
    client.post("/language", data={"language": "nl", "next": "/login"})
    page = client.get("/login", headers={"Accept-Language": "en"})
    assert b"Wachtwoord vergeten?" in page.data


def test_a_users_stored_language_follows_them(login, client, db):
    user, account = make_user_with_account(language="nl")
    login(user)
    page = client.get(f"/a/{account.id}/", headers={"Accept-Language": "en"})
    assert "Klantenaccount" in page.get_data(as_text=True)
    client.post("/language", data={"language": "en"})
    db.session.refresh(user)
    assert user.language == "en"


def test_form_errors_are_translated(client):
    page = client.post(
        "/login",
        data={"email": "x@example.com", "password": "nope"},
        headers={"Accept-Language": "nl"},
    )
    assert "horen niet bij elkaar" in page.get_data(as_text=True)


def _extracted_ids() -> set[str]:
    method_map = [
        ("portal/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_text_has_a_dutch_translation():
    with open(CATALOG / "messages.po", "rb") as fh:
        catalog = read_po(fh, locale="nl")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id
        and (all(m.string) if isinstance(m.string, tuple) else m.string)
        and "fuzzy" not in m.flags
    }
    missing = sorted(_extracted_ids() - translated)
    assert missing == [], f"run `make translations` and translate: {missing}"


def test_compiled_catalog_matches_the_po_file():
    with open(CATALOG / "messages.po", "rb") as fh:
        po = {_key(m.id): _key(m.string) for m in read_po(fh, locale="nl") if m.id and m.string}
    with open(CATALOG / "messages.mo", "rb") as fh:
        mo = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id and m.string}
    assert po == mo, "run `make translations` to compile the catalog"


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value
