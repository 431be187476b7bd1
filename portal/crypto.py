"""Secrets at rest (Exact tokens): Fernet with key rotation.

``TOKEN_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated. The first encrypts;
all decrypt. To rotate: put a new key first, run ``portal rotate-token-key``, then drop the old.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


def cipher() -> MultiFernet:
    keys = [k.strip() for k in current_app.config["TOKEN_ENCRYPTION_KEY"].split(",") if k.strip()]
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(plain: str) -> str:
    return cipher().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return cipher().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """Re-encrypt with the first key (whatever key it was encrypted with)."""
    return cipher().rotate(token.encode()).decode()
