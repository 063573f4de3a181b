"""Passwords the process knows, and masking them in anything printed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# user:password@ in anything that looks like a URL's authority, even a malformed one (`postgresql//u:pw@h/db`).
_AUTHORITY = re.compile(r"(?P<user>[A-Za-z0-9._%+-]+):(?P<password>[^@/\s:]+)@")


def url_passwords(text: str) -> list[str]:
    """Every password in user:password@ form inside ``text``, as written and percent-decoded."""
    from urllib.parse import unquote

    found: list[str] = []
    for match in _AUTHORITY.finditer(text):
        password = match.group("password")
        found += [password, unquote(password)]
    return [p for p in found if p]


def known_secrets(env: Mapping[str, str]) -> list[str]:
    """Passwords of the environment: PGPASSWORD, CASSANDRA_PASSWORD, and any URL's password."""
    found = [env.get("PGPASSWORD", ""), env.get("CASSANDRA_PASSWORD", "")]
    for name in ("DATABASE_URL", "HARNESS_PG_URL"):
        found += url_passwords(env.get(name, ""))
    return [s for s in found if s]


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every URL password replaced by ``***``."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 2:
            text = text.replace(secret, "***")
    return _AUTHORITY.sub(lambda m: f"{m.group('user')}:***@", text)
