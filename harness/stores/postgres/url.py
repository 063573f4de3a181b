"""dbmate-style database URLs: what libpq accepts, what dbmate adds (``search_path``), and safe descriptions."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg


def split_dbmate_url(url: str) -> tuple[str, str | None]:
    """dbmate accepts ``?search_path=`` in the URL; libpq does not, so take it out and return it separately."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    search_path = next((v for k, v in query if k == "search_path"), None)
    rest = urlencode([(k, v) for k, v in query if k != "search_path"])
    return urlunsplit(parts._replace(query=rest)), search_path


def search_path_entries(search_path: str) -> list[str]:
    """The schema names of a ``search_path`` value (``a, "My Schema"``), unquoted, empty entries dropped."""
    names = []
    for raw in search_path.split(","):
        name = raw.strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('""', '"')
        if name:
            names.append(name)
    return names


def describe_conninfo(url: str | None, env: Mapping[str, str] | None = None) -> str:
    """host:port/dbname of a URL or of the libpq environment, never the password."""
    env = os.environ if env is None else env
    try:
        info = psycopg.conninfo.conninfo_to_dict(url or "")
    except psycopg.ProgrammingError:
        return "postgres (a URL that does not parse)"
    host = info.get("host") or env.get("PGHOST", "localhost")
    port = info.get("port") or env.get("PGPORT", "5432")
    db = info.get("dbname") or env.get("PGDATABASE") or info.get("user") or env.get("PGUSER", "")
    return f"postgres {host}:{port}/{db}"


def database_name(url: str | None, env: Mapping[str, str] | None = None) -> str:
    """The database a URL (or libpq's environment) names; libpq's default is the user name."""
    env = os.environ if env is None else env
    try:
        info = psycopg.conninfo.conninfo_to_dict(url or "")
    except psycopg.ProgrammingError:
        return ""
    return str(info.get("dbname") or env.get("PGDATABASE") or info.get("user") or env.get("PGUSER") or "")
