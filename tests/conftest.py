"""Shared fixtures: the bundled server running for real on 127.0.0.1 over HTTP.

Data
    ``SEED_N`` (1,500) demo tasks generated with ``seed=SEED`` (7) and the fixed instant
    ``SEED_NOW`` (2026-11-20 12:00 UTC), so every date is deterministic: creation dates lie
    in the 90 days before ``SEED_NOW``. Hostile / unicode / long-text tasks carry the tags
    ``hostile-text`` / ``unicode-text`` / ``long-text`` (see ``tasktui.server.seed``).

Fixtures
    ``api_key``        the API key every server fixture accepts (Basic auth user name).
    ``seed_now``       ``SEED_NOW`` (aware UTC datetime) — the ``now`` the template was seeded with.
    ``seeded_db_template``  path of the session's seeded database. Never write to it.
    ``shared_server``  session-scoped ``ServerHandle`` over a private copy of the template:
                       for READ-ONLY tests (list, get, count, media). Do not audit / cancel on it.
    ``server``         function-scoped ``ServerHandle`` over a fresh copy of the template, on its
                       own free port: write freely. Costs ~0.1 s.
    ``server_factory`` function-scoped factory ``make(*, n=None, simulate=False, **opts)``:
                       ``n=None`` copies the template, ``n=0`` starts from an empty database,
                       any other ``n`` seeds that many tasks (seed ``SEED``, ``SEED_NOW``);
                       ``opts`` are ``tasktui.server.ServerOptions`` fields (e.g.
                       ``simulate_interval=0.05``, ``callback_backoff=0.05``, ``rate_limit=5``).
                       Every server made is stopped at teardown.
    ``sql``            ``sql(handle, "SELECT ...", *args) -> list[tuple]``: query a server's
                       SQLite database directly (a separate connection; WAL makes it safe).

``ServerHandle``: ``.url`` ("http://127.0.0.1:PORT/v1"), ``.origin``, ``.port``, ``.api_key``,
``.db_path``, ``.callback_auth`` (the ``scale-callback-auth`` value), ``.stop()``.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tasktui.server import seed_database, start_server_thread
from tasktui.testing import FaultProxy

SEED_N = 1500
SEED = 7
SEED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
API_KEY = "test_" + secrets.token_hex(12)


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="session")
def seed_now() -> datetime:
    return SEED_NOW


@pytest.fixture(scope="session")
def seeded_db_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    seed_database(path, SEED_N, seed=SEED, now=SEED_NOW)
    return path


def _copy_db(src: Path, dst: Path) -> Path:
    conn = sqlite3.connect(src)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM INTO ?", (str(dst),))
    finally:
        conn.close()
    return dst


@pytest.fixture(scope="session")
def shared_server(seeded_db_template, tmp_path_factory, api_key):
    path = _copy_db(seeded_db_template, tmp_path_factory.mktemp("shared") / "shared.db")
    handle = start_server_thread(path, [api_key])
    yield handle
    handle.stop()


@pytest.fixture
def server_factory(seeded_db_template, tmp_path, api_key):
    made = []

    def make(*, n: int | None = None, simulate: bool = False, keys: list[str] | None = None, **opts):
        path = tmp_path / f"server{len(made)}.db"
        if n is None:
            _copy_db(seeded_db_template, path)
        elif n > 0:
            seed_database(path, n, seed=SEED, now=SEED_NOW)
        handle = start_server_thread(path, keys or [api_key], simulate=simulate, **opts)
        made.append(handle)
        return handle

    yield make
    for h in made:
        h.stop()


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def sql():
    conns: list[sqlite3.Connection] = []

    def run(handle, query: str, *args):
        conn = sqlite3.connect(handle.db_path, timeout=30)
        conns.append(conn)
        try:
            return conn.execute(query, args).fetchall()
        finally:
            conn.close()

    return run


@pytest.fixture
def clock_not_on_utc():
    """The process's local time zone set to one far from UTC (Asia/Kolkata, +05:30) for
    the test: what is meant to be UTC must not move with the machine's clock."""
    import os
    import time

    old = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.fixture
async def proxy_for():
    """``await proxy_for(handle, seed=..., rate=..., public_contract=...)``: a started
    FaultProxy in front of a server, stopped at teardown."""
    made: list[FaultProxy] = []

    async def make(handle, **kw) -> FaultProxy:
        p = FaultProxy(handle.url, **kw)
        await p.start()
        made.append(p)
        return p

    yield make
    for p in made:
        await p.stop()
