"""What is remembered between calls (CLI-login token, settings, plain options) never hides a change or an error."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from easyllm import settings
from easyllm.errors import InvalidParameterError
from easyllm.protocol.options import check_native_options, parse_chat_options
from easyllm.settings import resolve_settings


def _age(path: Path, seconds: float = 60.0) -> None:
    """Make a file look written `seconds` ago (old enough for its token to be remembered)."""
    past = time.time() - seconds
    os.utime(path, (past, past))


@pytest.fixture
def token_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "token"
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(path))
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_OIDC_RESOURCE", raising=False)
    return path


def test_a_changed_token_file_is_picked_up(token_file: Path) -> None:
    token_file.write_text("hf_first")
    _age(token_file, 120)
    assert resolve_settings(api_base="http://x.test").api_key == "hf_first"
    assert resolve_settings(api_base="http://x.test").api_key == "hf_first"
    token_file.write_text("hf_second_login")
    _age(token_file, 60)
    assert resolve_settings(api_base="http://x.test").api_key == "hf_second_login"


def test_a_rewrite_of_the_same_length_in_the_same_tick_is_picked_up(token_file: Path) -> None:
    token_file.write_text("hf_aaaa")  # just written: not remembered yet, however coarse the file system's mtime
    assert resolve_settings(api_base="http://x.test").api_key == "hf_aaaa"
    mtime = token_file.stat().st_mtime_ns
    token_file.write_text("hf_bbbb")
    os.utime(token_file, ns=(mtime, mtime))  # same size, inode and mtime as what the first call saw
    assert resolve_settings(api_base="http://x.test").api_key == "hf_bbbb"


def test_a_token_file_created_or_removed_between_calls_is_picked_up(token_file: Path) -> None:
    assert resolve_settings(api_base="http://x.test").api_key is None
    token_file.write_text("hf_new_login")
    assert resolve_settings(api_base="http://x.test").api_key == "hf_new_login"
    _age(token_file)
    assert resolve_settings(api_base="http://x.test").api_key == "hf_new_login"
    token_file.unlink()
    assert resolve_settings(api_base="http://x.test").api_key is None


def test_environment_still_wins_over_a_remembered_login(token_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file.write_text("hf_login")
    _age(token_file)
    assert resolve_settings(api_base="http://x.test").api_key == "hf_login"
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert resolve_settings(api_base="http://x.test").api_key == "hf_env"
    monkeypatch.delenv("HF_TOKEN")
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_legacy_env")  # read by huggingface_hub: part of the key
    assert resolve_settings(api_base="http://x.test").api_key == "hf_legacy_env"


def test_a_remembered_login_is_asked_again_after_its_time(token_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token_file.write_text("hf_login")
    _age(token_file)
    assert resolve_settings(api_base="http://x.test").api_key == "hf_login"
    asked = []
    get_token, constants = settings._hub or (None, None)
    assert get_token is not None

    def counting() -> str | None:
        asked.append(1)
        return get_token()

    monkeypatch.setattr(settings, "_hub", (counting, constants))
    resolve_settings(api_base="http://x.test")
    assert asked == []  # unchanged file: not read again
    monkeypatch.setattr(settings, "_LOGIN_TOKEN_TTL", 0.0)
    monkeypatch.setattr(settings, "_login_cache", None)
    resolve_settings(api_base="http://x.test")
    resolve_settings(api_base="http://x.test")
    assert asked == [1, 1]  # with no time to live, huggingface_hub is asked (and may refresh) every call


def test_module_settings_are_read_on_every_call() -> None:
    first = resolve_settings(module_api_base="http://one.test", module_api_key="hf_one", module_timeout=5)
    second = resolve_settings(module_api_base="http://two.test", module_api_key="hf_two", module_timeout=7)
    assert (first.api_base, first.api_key, first.timeout) == ("http://one.test", "hf_one", 5.0)
    assert (second.api_base, second.api_key, second.timeout, second.connect_timeout) == (
        "http://two.test",
        "hf_two",
        7.0,
        7.0,
    )


def test_remembered_options_keep_types_apart() -> None:
    assert parse_chat_options({"max_tokens": 1}).max_tokens == 1
    with pytest.raises(InvalidParameterError) as err:
        parse_chat_options({"max_tokens": True})  # equal to 1 and hashed alike, but not an int here
    assert err.value.param == "max_tokens"


def test_errors_are_not_remembered() -> None:
    for _ in range(2):
        with pytest.raises(InvalidParameterError) as err:
            parse_chat_options({"temperature": 3.0})
        assert err.value.param == "temperature"
    with pytest.raises(InvalidParameterError, match="presence") as refused:
        check_native_options(parse_chat_options({"presence_penalty": 0.5}))
    assert refused.value.param == "presence_penalty"
    assert parse_chat_options({"presence_penalty": 0.5}).presence_penalty == 0.5
