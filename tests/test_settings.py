"""Settings read only the documented TUTOR_* and OPENAI_* variables, and explain bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tutor import cli
from tutor.errors import ConfigError
from tutor.settings import get_settings, load_settings


def test_unrelated_variables_change_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("TUTOR_HOME", "TUTOR_ENGINE", "TUTOR_CORPUS", "TUTOR_SECRET_KEY", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    baseline = load_settings()
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("ENGINE", "bogus")
    monkeypatch.setenv("CORPUS_DIR", str(tmp_path / "not-a-corpus"))
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("HOME_DIR", "/")
    s = load_settings()
    assert s.engine == baseline.engine == "auto"
    assert s.corpus_dir == baseline.corpus_dir
    assert s.secret_key is None
    # the data dir follows the platform convention below the (new) home, never $HOME itself
    assert s.home == tmp_path / "elsewhere" / ".local" / "share" / "career-tutor"
    assert s.home != Path(str(tmp_path / "elsewhere"))


def test_xdg_data_home_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TUTOR_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert load_settings().home == tmp_path / "xdg" / "career-tutor"


def test_documented_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("TUTOR_ENGINE", "offline")
    monkeypatch.setenv("OPENAI_MODEL", "local-model")
    s = load_settings()
    assert (s.home, s.engine, s.openai_model) == (tmp_path / "h", "offline", "local-model")


def test_dotenv_is_limited_to_our_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUTOR_ENGINE", raising=False)
    (tmp_path / ".env").write_text("ENGINE=bogus\nTUTOR_MAX_OUTPUT_TOKENS=321\n")
    s = load_settings()
    assert s.engine == "auto" and s.max_output_tokens == 321


def test_bad_value_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUTOR_ENGINE", "bogus")
    with pytest.raises(ConfigError) as info:
        load_settings()
    msg = str(info.value)
    assert "TUTOR_ENGINE='bogus'" in msg
    assert "'auto', 'offline' or 'openai'" in msg
    assert info.value.hint and "README" in info.value.hint


def test_cli_bad_setting_exit_code_and_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            cli.main,
            ["progress", "show"],
            env={"TUTOR_HOME": str(tmp_path), "TUTOR_ENGINE": "sometimes"},
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == ConfigError.exit_code
    assert "TUTOR_ENGINE='sometimes'" in result.output
    assert "Traceback" not in result.output and "validation error" not in result.output
