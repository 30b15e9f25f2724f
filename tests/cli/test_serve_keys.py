"""Where ``tasktui serve`` takes its keys from (pure parts; the real process is in
tests/server/test_cli.py): flags, $TASKTUI_SERVE_KEYS and a private key file, together."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from tasktui.cli.serve import KeyFileError, add_arguments, gather_keys, read_key_file

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def args(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_arguments(p)
    return p.parse_args(list(argv))


def test_every_source_counts_and_duplicates_are_dropped(tmp_path: Path):
    f = tmp_path / "keys"
    f.write_text("k-file\n# comment\n\nk-flag\n")
    f.chmod(0o600)
    keys, origins = gather_keys(args("--api-key", "k-flag", "--api-key-file", str(f)),
                                {"TASKTUI_SERVE_KEYS": " k-env1 ,,k-env2,"})
    assert keys == ["k-flag", "k-env1", "k-env2", "k-file"]
    assert origins == ["1 API key from --api-key", "2 API keys from $TASKTUI_SERVE_KEYS", f"2 API keys from {f}"]
    assert not any(k in " ".join(origins) for k in keys)


def test_no_source_means_no_keys():
    assert gather_keys(args(), {}) == ([], [])


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_key_file_others_can_read_is_refused_without_showing_a_key(tmp_path: Path, mode: int):
    f = tmp_path / "keys"
    f.write_text("very-secret-key\n")
    f.chmod(mode)
    with pytest.raises(KeyFileError) as e:
        read_key_file(f)
    assert "chmod 600" in str(e.value) and "very-secret-key" not in str(e.value)
    f.chmod(0o600)
    assert read_key_file(f) == ["very-secret-key"]
