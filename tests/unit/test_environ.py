"""`easyllm.environ.env` answers as `os.environ.get` does, however the environment was changed."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from easyllm.environ import env

NAME = "EASYLLM_TEST_ENVIRON"


def test_set_changed_and_removed_through_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NAME, raising=False)
    assert env(NAME) is None
    os.environ[NAME] = "one"
    try:
        assert env(NAME) == "one" == os.environ.get(NAME)
        monkeypatch.setenv(NAME, "tw\u00f6 \U0001f98a")
        assert env(NAME) == "tw\u00f6 \U0001f98a"
    finally:
        os.environ.pop(NAME, None)
    assert env(NAME) is None


def test_patch_dict_and_a_replaced_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock.patch.dict(os.environ, {NAME: "patched"}, clear=True):
        assert env(NAME) == "patched" and env("PATH") is None
    monkeypatch.setattr(os, "environ", {NAME: "a plain dict"})
    assert env(NAME) == "a plain dict"
