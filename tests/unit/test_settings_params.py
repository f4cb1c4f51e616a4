from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from easyllm.errors import InvalidParameterError
from easyllm.protocol.options import check_native_options, parse_chat_options
from easyllm.protocol.params import combine_stops, seeds_for, tgi_parameters
from easyllm.settings import DEFAULT_API_BASE, resolve_settings


def test_defaults_and_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "none"))
    for name in ("HUGGINGFACE_TOKEN", "HF_TOKEN", "HUGGINGFACE_API_BASE"):
        monkeypatch.delenv(name, raising=False)
    s = resolve_settings()
    assert s.api_base == DEFAULT_API_BASE == "https://router.huggingface.co/v1" and s.api_key is None
    monkeypatch.setenv("HUGGINGFACE_API_BASE", "http://env.test")
    assert resolve_settings().api_base == "http://env.test"
    assert resolve_settings(module_api_base="http://module.test").api_base == "http://module.test"
    assert (
        resolve_settings(api_base="http://arg.test", module_api_base="http://module.test").api_base == "http://arg.test"
    )


def test_cli_login_token_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("hf_fromlogin")
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(token_file))
    for name in ("HUGGINGFACE_TOKEN", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert resolve_settings().api_key == "hf_fromlogin"


def test_settings_repr_hides_the_token() -> None:
    assert "hf_secret" not in repr(resolve_settings(api_key="hf_secret", api_base="http://x.test"))


def parse_native(values: dict[str, object]) -> object:
    return check_native_options(parse_chat_options(values))


def test_stops_merge_in_order_without_duplicates() -> None:
    assert combine_stops(["</s>"], "##", ["##", "</s>"], None) == ("</s>", "##")


@pytest.mark.parametrize("groups", [("",), (["ok", ""],), (["</s>"], None, [""])])
def test_an_empty_stop_string_is_refused(groups: tuple[object, ...]) -> None:
    with pytest.raises(InvalidParameterError, match="empty string") as info:
        combine_stops(*groups)  # type: ignore[arg-type]
    assert info.value.param == "stop"


def test_at_most_four_stops_are_sent() -> None:
    params = tgi_parameters(parse_native({}), ["a", "b", "c", "d", "e"], seed=None)
    assert params["stop"] == ["a", "b", "c", "d"]


def test_top_p_zero_is_greedy() -> None:
    assert tgi_parameters(parse_native({"top_p": 0}), [], seed=None)["do_sample"] is False


def test_seeds_are_distinct_and_reproducible() -> None:
    assert seeds_for(parse_native({"n": 3, "seed": 5})) == [5, 6, 7]
    assert seeds_for(parse_native({"n": 2})) == [None, None]


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(InvalidParameterError, match="`max_tokens`"):
        parse_native({"max_tokens": True})
