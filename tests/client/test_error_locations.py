"""Connection, timeout and status errors say where the request went (method and URL), never the credentials."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from easyllm import errors
from easyllm.protocol.generation import HTTPCall
from easyllm.settings import resolve_settings
from easyllm.transport import Deadline, _timeout
from tests.client.fake_tgi import reply
from tests.client.test_chat import chat

TOKEN = "hf_" + "L0cat10nT0k3n" * 3
SECRET_BASE = "http://alice:pa55word@tgi.test/generate?api_key=qu3ryS3cr3t#frag"
WHERE = "(POST http://tgi.test/generate)"


def _no_secret(err: BaseException) -> None:
    for text in (str(err), repr(err), str(getattr(err, "message", ""))):
        for secret in (TOKEN, "pa55word", "alice", "qu3ryS3cr3t", "api_key"):
            assert secret not in text


def test_connection_error_names_method_and_url(make_runner: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    run = make_runner(refuse)
    with pytest.raises(errors.APIConnectionError) as info:
        chat(run, api_base=SECRET_BASE, api_key=TOKEN, max_retries=0)
    assert str(info.value) == f"Connection error: ConnectError: [Errno 111] Connection refused {WHERE}"
    _no_secret(info.value)


def test_timeout_names_method_and_url(make_runner: Any) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    run = make_runner(slow)
    with pytest.raises(errors.APITimeoutError) as info:
        chat(run, api_base=SECRET_BASE, api_key=TOKEN)
    assert str(info.value) == f"Request timed out (ReadTimeout). {WHERE}"
    _no_secret(info.value)


@pytest.mark.parametrize("stream", [False, True])
def test_status_error_names_method_and_url(make_runner: Any, stream: bool) -> None:
    run = make_runner(reply(404, json_body={"error": "Model not found"}))
    with pytest.raises(errors.NotFoundError) as info:
        chat(run, api_base=SECRET_BASE, api_key=TOKEN, stream=stream)
    assert str(info.value) == f"Error code: 404 - Model not found. Check `api_base` and the model id. {WHERE}"
    _no_secret(info.value)


def test_error_inside_a_stream_names_method_and_url(make_runner: Any) -> None:
    event = b'data:{"error":"CUDA out of memory","error_type":"generation"}\n\n'
    run = make_runner(reply(content=event, headers={"content-type": "text/event-stream"}))
    with pytest.raises(errors.APIStatusError) as info:
        chat(run, api_base=SECRET_BASE, api_key=TOKEN, stream=True)
    assert "CUDA out of memory" in str(info.value) and "(POST http://tgi.test/generate" in str(info.value)
    _no_secret(info.value)


def test_a_passed_deadline_names_method_and_url() -> None:
    settings = resolve_settings(api_base="http://tgi.test")
    with pytest.raises(errors.APITimeoutError) as info:
        _timeout(HTTPCall("POST", SECRET_BASE, {}), settings, Deadline(0.0), stream=False)
    assert str(info.value) == f"Request timed out: the 0s deadline passed {WHERE}."
    _no_secret(info.value)


def test_request_location_strips_userinfo_query_and_fragment() -> None:
    request = httpx.Request("GET", "https://u:p@[::1]:8443/v1/models?token=x#y")
    assert errors.request_location(request) == "GET https://[::1]:8443/v1/models"
    assert errors.request_location(None) is None
