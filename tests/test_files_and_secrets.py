"""Files and secrets: a private data dir, private database files, and no guessable cookie key."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from web_support import free_port

from tutor.db import Database, write
from tutor.errors import ConfigError
from tutor.index import Index
from web.app import create_app
from web.security import check_secret


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_dir_and_database_files_are_private(tmp_path: Path, embedder: Any) -> None:
    old = os.umask(0o022)  # the usual umask, under which files come out 0644 and dirs 0755
    try:
        settings = make_settings(tmp_path / "a" / "home")
        index = Index(settings, embedder=embedder)
        db: Database = index.db
        with write(db):
            db.execute("insert into learners (id, created_at) values ('x', 'now')")
        home = settings.home
        assert mode(home) == 0o700
        assert mode(settings.chroma_path) == 0o700
        for name in ("tutor.db", "tutor.db-wal", "tutor.db-shm"):
            assert (home / name).exists(), name
            assert mode(home / name) == 0o600, name
        index.close()
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    "key",
    [
        "changeme",
        "test-secret",
        "changemechangemechangemechangeme",  # 32 bytes of one word
        "a" * 64,
        "my-super-secret-key-for-the-tutor-2026",  # long, but a sentence with a known word
        secrets.token_hex(16),  # 32 characters, only 16 random bytes
    ],
)
def test_weak_secret_key_is_refused_at_start_up(tmp_path: Path, key: str) -> None:
    settings = make_settings(tmp_path / "home", secret_key=key)
    with pytest.raises(ConfigError) as err:
        create_app(settings)
    assert "TUTOR_SECRET_KEY" in err.value.message
    assert "secrets.token_urlsafe(48)" in (err.value.hint or "")


@pytest.mark.parametrize(
    "key", [secrets.token_urlsafe(32), secrets.token_urlsafe(48), secrets.token_hex(32)]
)
def test_random_keys_of_32_bytes_are_accepted(key: str) -> None:
    assert check_secret(key) == key


def test_serve_refuses_a_weak_key_before_listening(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUTOR_", "OPENAI_"))} | {
        "TUTOR_HOME": str(tmp_path / "home"),
        "TUTOR_SECRET_KEY": "changeme",
    }
    r = subprocess.run(
        [sys.executable, "-m", "tutor.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == ConfigError.exit_code, r.stderr
    assert "TUTOR_SECRET_KEY" in r.stderr and "token_urlsafe" in r.stderr
