"""tasktui.files: atomic, durable file replacement (pure file-system unit tests)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tasktui import files
from tasktui.files import fsync_dir, leftover_temps, write_atomic


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_writes_exactly_the_bytes_and_leaves_only_the_file(tmp_path):
    target = tmp_path / "settings.toml"
    data = bytes(range(256)) * 3
    write_atomic(target, data)
    assert target.read_bytes() == data
    assert os.listdir(tmp_path) == ["settings.toml"]


def test_replaces_an_existing_file_whole(tmp_path):
    target = tmp_path / "a.json"
    target.write_bytes(b"old content, longer than the new one")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["a.json"]


@pytest.mark.parametrize("mode", [0o600, 0o644, 0o640])
def test_mode_is_exact_whatever_the_umask(tmp_path, mode):
    old = os.umask(0o077)  # would strip group and other bits from a plain create
    try:
        target = tmp_path / "f"
        write_atomic(target, b"x", mode=mode)
    finally:
        os.umask(old)
    assert mode_of(target) == mode


def test_default_mode_is_owner_only(tmp_path, umask_022):
    target = tmp_path / "secret"
    write_atomic(target, b"key")
    assert mode_of(target) == 0o600


def test_mode_none_is_what_a_plain_create_gives(tmp_path, umask_022):
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")  # open(..., "w"): 0o666 less the umask
    target = tmp_path / "atomic"
    write_atomic(target, b"x", mode=None)
    assert mode_of(target) == mode_of(plain) == 0o644


def test_a_failed_fsync_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "cp.json"
    target.write_bytes(b"before")

    def broken_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(files.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output error"):
        write_atomic(target, b"after")
    monkeypatch.undo()
    assert target.read_bytes() == b"before"
    assert os.listdir(tmp_path) == ["cp.json"]


def test_data_that_cannot_be_written_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "cp.json"
    target.write_bytes(b"before")
    with pytest.raises(TypeError):
        write_atomic(target, "text, not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"before"
    assert os.listdir(tmp_path) == ["cp.json"]


def test_a_failed_rename_leaves_no_temp(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_bytes(b"kept")
    with pytest.raises(OSError):
        write_atomic(target, b"data")  # a file cannot replace a non-empty directory
    assert sorted(os.listdir(tmp_path)) == ["taken"]
    assert (target / "inside").read_bytes() == b"kept"


def test_a_missing_directory_is_an_error_not_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "nowhere" / "f", b"x")
    assert os.listdir(tmp_path) == []


def test_file_and_directory_are_fsynced_before_it_returns(tmp_path, monkeypatch):
    """The data reach the disk before the rename, and the rename before the return."""
    target = tmp_path / "f"
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(dst)))
        return real_replace(src, dst)

    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc to name a file descriptor")
    monkeypatch.setattr(files.os, "fsync", fsync)
    monkeypatch.setattr(files.os, "replace", replace)
    write_atomic(target, b"data")
    monkeypatch.undo()
    kinds = [k for k, _ in events]
    assert kinds == ["fsync", "replace", "fsync"]
    temp_synced = events[0][1]
    assert os.path.dirname(temp_synced) == str(tmp_path) and temp_synced != str(target)
    assert events[2][1] == str(tmp_path)


def test_fsync_dir_is_quiet_where_it_cannot_open(tmp_path):
    (tmp_path / "kept").write_bytes(b"x")
    assert fsync_dir(tmp_path) is None  # a real directory: no error
    assert fsync_dir(tmp_path / "gone") is None  # nothing to flush: no error either
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # and nothing made or removed


def test_leftover_temps_finds_only_this_files_temps(tmp_path):
    target = tmp_path / "out[1].json"  # glob characters in the name are taken literally
    write_atomic(target, b"x")
    assert leftover_temps(target) == []
    killed = tmp_path / ".out[1].json.0123abcd.tmp"  # what a SIGKILL mid-write leaves
    killed.write_bytes(b"half")
    (tmp_path / ".other.json.0123abcd.tmp").write_bytes(b"not ours")
    (tmp_path / "out[1].json.tmp").write_bytes(b"not a temp name")
    assert leftover_temps(target) == [killed]


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path):
    # issue 13.16: a dotfile manager keeps config.toml as a link into its repository
    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["config.toml"]


def test_saving_a_view_keeps_a_symlinked_config_file(tmp_path):
    from tasktui.config import SavedView, load_settings, save_view
    from tasktui.domain.filters import Filters

    real = tmp_path / "dotfiles" / "config.toml"
    real.parent.mkdir()
    real.write_text('zone = "pacific"\n')
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_view(SavedView.of("Mine", Filters.parse({"status": ["queued"]})), link)
    assert link.is_symlink()
    text = real.read_text()
    assert 'zone = "pacific"' in text and "Mine" in text and "queued" in text
    assert "Mine" in load_settings(link, env={}).views
_LIMITED_WRITE = """
import errno, os, resource, signal, sys
from tasktui.files import write_all
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
write_all(fd, b"a" * 999)  # fits
try:
    write_all(fd, bytes(range(256)) * 4)  # crosses the limit: the first write comes back short
except OSError as e:
    print(errno.errorcode[e.errno])
else:
    print("no error")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
def test_write_all_raises_when_the_file_takes_only_part_of_the_bytes(tmp_path):
    """Under a real file-size limit a write takes what fits and says so only in its return
    value; write_all goes on and gets the error instead of losing the rest silently."""
    target = tmp_path / "limited"
    r = subprocess.run([sys.executable, "-c", _LIMITED_WRITE, str(target)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "EFBIG"
    assert target.read_bytes() == b"a" * 999 + b"\x00"  # exactly what fitted


def test_write_all_writes_every_byte(tmp_path):
    target = tmp_path / "whole"
    data = os.urandom(3 * 1024 * 1024)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        files.write_all(fd, data)
    finally:
        os.close(fd)
    assert target.read_bytes() == data
