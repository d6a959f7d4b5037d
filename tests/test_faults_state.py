"""State that survives, or says clearly that it cannot (issue #12, item 3), on loopback.

Before: two bot processes on one SQLite file both ran and lost answers; a
corrupt, truncated or read-only file at start gave a traceback; a corrupt page
started "ready"; with the file's directory deleted the bot answered on (into
nothing) and readiness stayed 200.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bot.conversation.engine import Engine
from bot.knowledge import Knowledge
from bot.state import SQLiteStore, StateFileError
from tests.conftest import FIXTURE_KB
from tests.support.fake_connector import FakeConnector
from tests.support.teams_client import CREDENTIAL_ENV, Server

ROOT = Path(__file__).resolve().parent.parent
REGELLOTS = str(Path(sys.executable).with_name("regellots"))


def _env(state: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(ROOT), "REGELLOTS_WATCH": "0", "REGELLOTS_STATE": str(state)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(state: Path) -> subprocess.CompletedProcess[str]:
    """`regellots teams` on a state file that is expected to be refused: it must exit by itself."""
    port = _free_port()
    return subprocess.run(
        [REGELLOTS, "teams", "--knowledge", str(FIXTURE_KB), "--port", str(port)], cwd=ROOT, env=_env(state), capture_output=True, text=True, timeout=60
    )


def _one_line_naming(result: subprocess.CompletedProcess[str], path: Path, words: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # no traceback
    assert str(path) in lines[0] and words in lines[0], lines[0]


def _make_store_with_data(path: Path, rows: int = 400) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE conversations (id TEXT PRIMARY KEY, updated REAL NOT NULL, state TEXT NOT NULL)")
    db.executemany("INSERT INTO conversations VALUES (?, ?, ?)", [(f"c{i}", 9e9, "x" * 500) for i in range(rows)])
    db.commit()
    db.close()


def test_a_second_process_on_one_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    first = subprocess.Popen(
        [REGELLOTS, "teams", "--knowledge", str(FIXTURE_KB), "--port", str(_free_port())], cwd=ROOT, env=_env(state), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        lock = state.with_name(state.name + ".lock")
        for _ in range(600):  # until the first holds the lock (bounded: 30 s)
            if lock.exists() and lock.read_text().strip() == str(first.pid):
                break
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        second = _start(state)
        _one_line_naming(second, state, f"another bot process (pid {first.pid})")
        assert "Redis" in second.stderr
    finally:
        first.terminate()
        first.communicate(timeout=60)
    assert first.returncode == 0


def test_a_second_store_on_one_file_is_refused_in_process_too(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = SQLiteStore(path)
    with pytest.raises(StateFileError, match="another bot process"):
        SQLiteStore(path)
    reader = SQLiteStore(path, reader=True)  # a report beside the running bot is fine
    asyncio.run(reader.close())
    asyncio.run(store.close())
    asyncio.run(SQLiteStore(path).close())  # free again once closed


def test_a_corrupt_file_at_start_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    state = tmp_path / "garbage.sqlite3"
    state.write_bytes(b"this is not a database at all" * 100)
    _one_line_naming(_start(state), state, "corrupt")


def test_a_truncated_file_at_start_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    state = tmp_path / "truncated.sqlite3"
    _make_store_with_data(state)
    data = state.read_bytes()
    state.write_bytes(data[: len(data) // 3])
    _one_line_naming(_start(state), state, "corrupt")


def test_a_corrupt_page_is_caught_at_start_not_after_it(tmp_path: Path) -> None:
    state = tmp_path / "page.sqlite3"
    _make_store_with_data(state)
    data = bytearray(state.read_bytes())
    page = 4096
    for i in range(2 * page, min(len(data), 6 * page)):  # scribble over b-tree pages, keep the header
        data[i] = 0xA5
    state.write_bytes(bytes(data))
    _one_line_naming(_start(state), state, "corrupt")


def _unprivileged() -> list[str] | None:
    """A command prefix that runs without root's power to write read-only files: none needed when not root; as
    root, `setpriv` to the user nobody — if that user can run the bot from this checkout (None otherwise)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*prefix, REGELLOTS, "--help"], cwd=ROOT, capture_output=True, timeout=60)
    return prefix if probe.returncode == 0 else None


def test_a_read_only_file_at_start_is_one_line() -> None:
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("running as root, and no unprivileged user can run the bot from this checkout")
    # A folder anyone may enter (pytest's own tmp folder is root's alone), holding a file no one may write.
    folder = Path(tempfile.mkdtemp(prefix="regellots-ro-"))
    try:
        state = folder / "ro.sqlite3"
        _make_store_with_data(state)
        state.chmod(0o444)
        folder.chmod(0o555)
        port = _free_port()
        result = subprocess.run(
            [*prefix, REGELLOTS, "teams", "--knowledge", str(FIXTURE_KB), "--port", str(port)],
            cwd=ROOT, env=_env(state), capture_output=True, text=True, timeout=60,
        )
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)
    assert result.returncode != 0, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and str(state) in result.stderr, result.stderr


async def test_the_directory_deleted_while_running_is_noticed(kb: Knowledge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*CREDENTIAL_ENV, "REGELLOTS_WATCH"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "data"
    store = SQLiteStore(folder / "state.sqlite3")
    connector = await FakeConnector().start()
    srv = await Server(Engine(kb, store, channel="teams"), connector).start()
    try:
        assert (await srv.get("/readyz"))[0] == 200
        assert "Jag är Regellotsen" in (await srv.say("hej"))[-1].text
        shutil.rmtree(folder)
        status, body = await srv.get("/readyz")
        assert status == 503 and body == {"status": "unavailable"}
        reply = (await srv.say("är vår app en medicinteknisk produkt?"))[-1].text
        assert "Försök igen om en liten stund" in reply  # "try again shortly", not an answer into nothing
        assert not folder.exists()
    finally:
        await srv.stop()
        await connector.stop()


async def test_readiness_runs_quick_check_on_the_real_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.state import sqlite as sqlite_module

    path = tmp_path / "q.sqlite3"
    store = SQLiteStore(path)
    for i in range(300):
        await store.save(f"c{i}", "y" * 800)
    assert await store.ready()
    monkeypatch.setattr(sqlite_module, "QUICK_CHECK_EVERY", 0.0)
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the pages are in the file now, not only in the WAL
    # Corrupt pages under the running store (as a failing disk would): readiness must see it.
    data = bytearray(path.read_bytes())
    with open(path, "r+b") as f:
        f.seek(3 * 4096)
        f.write(b"\xa5" * 4096 * 4)
    assert data  # the file had content
    assert not await store.ready()
    await store.close()


async def test_http_readiness_goes_503_when_the_file_is_replaced(kb: Knowledge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*CREDENTIAL_ENV, "REGELLOTS_WATCH"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "r.sqlite3"
    store = SQLiteStore(path)
    connector = await FakeConnector().start()
    srv = await Server(Engine(kb, store, channel="teams"), connector).start()
    try:
        assert (await srv.get("/readyz"))[0] == 200
        path.unlink()
        path.write_bytes(b"")  # a new, empty file where ours was
        assert (await srv.get("/readyz"))[0] == 503
    finally:
        await srv.stop()
        await connector.stop()
