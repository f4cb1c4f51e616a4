"""Errors, retries, deadlines, auth and URLs, through both shells."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import pytest

from easyllm import errors, transport
from easyllm.clients import huggingface
from easyllm.settings import resolve_settings
from easyllm.transport import new_async_http_client, new_http_client
from tests.client.fake_tgi import generate_body, reply
from tests.client.test_chat import chat

TOKEN = "hf_" + "S3cr3tT0k3n" * 3
BASE = "http://tgi.test"
# A chat call through the facade, for the tests that hold their own client.
CHAT_CALL: dict[str, Any] = {
    "api_base": BASE,
    "messages": [{"role": "user", "content": "Hi"}],
    "prompt_builder": "chatml",
}

OK = reply(json_body=generate_body("fine"))


def test_validation_error_maps_to_unprocessable_with_server_message(make_runner: Any) -> None:
    body = {"error": "Input validation error: `inputs` must have less than 2048 tokens", "error_type": "validation"}
    run = make_runner(reply(422, json_body=body))
    with pytest.raises(errors.UnprocessableEntityError) as info:
        chat(run)
    assert info.value.status_code == 422 and info.value.type == "validation"
    assert "must have less than 2048 tokens" in str(info.value)
    assert isinstance(info.value, huggingface.error.InvalidRequestError)
    assert len(run.server.requests) == 1  # never retried


@pytest.mark.parametrize(
    ("status", "cls", "v0"),
    [
        (400, errors.BadRequestError, huggingface.error.InvalidRequestError),
        (401, errors.AuthenticationError, huggingface.error.AuthenticationError),
        (403, errors.PermissionDeniedError, huggingface.error.PermissionError),
        (404, errors.NotFoundError, huggingface.error.InvalidRequestError),
        (424, errors.APIStatusError, huggingface.error.APIError),
        (500, errors.InternalServerError, huggingface.error.APIError),
    ],
)
def test_status_codes_map_to_openai_names(make_runner: Any, status: int, cls: type, v0: type) -> None:
    run = make_runner(reply(status, json_body={"error": "nope"}))
    with pytest.raises(cls) as info:
        chat(run, max_retries=0)
    assert isinstance(info.value, v0)
    assert info.value.status_code == status  # type: ignore[attr-defined]


def test_plain_text_error_body_keeps_the_server_words(make_runner: Any) -> None:
    run = make_runner(reply(413, content=b"length limit exceeded"))
    with pytest.raises(errors.APIStatusError, match="length limit exceeded"):
        chat(run)


def test_loading_model_503_is_retried_after_estimated_time(make_runner: Any) -> None:
    loading = reply(503, json_body={"error": "Model org/m is currently loading", "estimated_time": 0.01})
    run = make_runner(loading, OK)
    assert chat(run).choices[0].message.content == "fine"
    assert len(run.server.requests) == 2


def test_rate_limit_is_retried_honouring_retry_after(make_runner: Any) -> None:
    limited = reply(
        429, json_body={"error": "Model is overloaded", "error_type": "overloaded"}, headers={"retry-after": "0"}
    )
    run = make_runner(limited, limited, OK)
    assert chat(run).choices[0].message.content == "fine"
    assert len(run.server.requests) == 3


def test_retries_stop_at_max_retries_and_raise_the_server_error(make_runner: Any) -> None:
    limited = reply(429, json_body={"error": "slow down"}, headers={"retry-after": "0"})
    run = make_runner(limited)
    with pytest.raises(huggingface.error.RateLimitError, match="slow down"):
        chat(run, max_retries=1)
    assert len(run.server.requests) == 2


def test_wait_longer_than_the_deadline_fails_at_once(make_runner: Any) -> None:
    loading = reply(503, json_body={"error": "Model org/m is currently loading", "estimated_time": 120.0})
    run = make_runner(loading, OK)
    with pytest.raises(huggingface.error.ServiceUnavailableError, match="currently loading"):
        chat(run, timeout=5)
    assert len(run.server.requests) == 1


def test_connect_errors_are_retried_then_raised(make_runner: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    run = make_runner(refuse)
    with pytest.raises(errors.APIConnectionError, match="connection refused"):
        chat(run, max_retries=1)
    assert len(run.server.requests) == 2


def test_connect_error_then_success(make_runner: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    run = make_runner(refuse, OK)
    assert chat(run).choices[0].message.content == "fine"


def test_timeout_maps_to_api_timeout_error_and_is_not_retried(make_runner: Any) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    run = make_runner(slow)
    with pytest.raises(huggingface.error.Timeout):
        chat(run)
    assert len(run.server.requests) == 1


def test_stream_open_is_retried_but_errors_raise_from_create(make_runner: Any) -> None:
    run = make_runner(reply(401, content=b""))
    with pytest.raises(errors.AuthenticationError, match="Check the token"):
        chat(run, stream=True)


def test_token_is_sent_as_bearer_and_never_shown(
    make_runner: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EASYLLM_LOG", "debug")
    run = make_runner(reply(401, json_body={"error": "Invalid credentials in Authorization header"}))
    with caplog.at_level(logging.DEBUG, logger="easyllm"), pytest.raises(errors.AuthenticationError) as info:
        chat(run, api_key=TOKEN)
    assert run.server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert "<redacted>" in caplog.text
    for text in (caplog.text, str(info.value), repr(info.value), repr(resolve_settings(api_key=TOKEN))):
        assert TOKEN not in text


def test_token_comes_from_the_environment(make_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    run = make_runner(OK)
    chat(run)
    assert run.server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_huggingface_token_wins_over_hf_token(make_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_other")
    monkeypatch.setenv("HUGGINGFACE_TOKEN", TOKEN)
    run = make_runner(OK)
    chat(run)
    assert run.server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_no_token_no_authorization_header(make_runner: Any) -> None:
    run = make_runner(OK)
    chat(run)
    assert "authorization" not in run.server.requests[0].headers


@pytest.mark.parametrize("own", [True, False], ids=["easyllm-client", "caller-client"])
def test_authorization_is_not_sent_to_another_host_after_a_redirect(make_runner: Any, own: bool) -> None:
    """httpx follows the redirect and drops the token; on easyllm's own client the redirected request is sent again
    through `send` (the first answer was only a redirect), on a caller's it goes through `send` at once."""

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "tgi.test":
            return httpx.Response(307, headers={"location": "http://elsewhere.test/generate"})
        return OK(request)

    run = make_runner(route, own=own)
    assert chat(run, api_key=TOKEN).choices[0].message.content == "fine"
    *here, there = run.server.requests
    assert [r.url.host for r in here] == ["tgi.test"] * (2 if own else 1)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in here)
    assert there.url.host == "elsewhere.test" and "authorization" not in there.headers
    assert there.content == here[0].content  # a 307 keeps the method and the body


def test_model_collection_url_appends_the_model(make_runner: Any) -> None:
    run = make_runner(OK)
    chat(run, api_base="https://api-inference.test/models", model="org/name")
    assert str(run.server.requests[0].url) == "https://api-inference.test/models/org/name"


def test_collection_without_a_model_is_refused(make_runner: Any) -> None:
    run = make_runner(OK)
    with pytest.raises(errors.InvalidParameterError, match="`model`"):
        chat(run, api_base="https://api-inference.test/models")


def test_server_base_is_used_as_is(make_runner: Any) -> None:
    run = make_runner(OK)
    chat(run, api_base="http://tgi.test/", model="label-only")
    assert str(run.server.requests[0].url) == "http://tgi.test"


def test_module_api_base_and_env_are_read_at_call_time(make_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUGGINGFACE_API_BASE", "http://from-env.test")
    run = make_runner(OK)
    huggingface_kwargs = {"messages": [{"role": "user", "content": "x"}], "prompt_builder": "chatml"}
    run.shell == "sync"  # noqa: B015 - the runner fills api_base unless told otherwise
    run(huggingface.ChatCompletion, api_base=None, **huggingface_kwargs)
    assert run.server.requests[0].url.host == "from-env.test"
    monkeypatch.setattr(huggingface, "api_base", "http://from-module.test")
    run(huggingface.ChatCompletion, api_base=None, **huggingface_kwargs)
    assert run.server.requests[1].url.host == "from-module.test"


def test_debug_true_shows_the_prompt_sent(make_runner: Any, caplog: pytest.LogCaptureFixture) -> None:
    run = make_runner(OK)
    with caplog.at_level(logging.NOTSET):
        chat(run, debug=True)
    assert "prompt sent:\n<system>Be brief.<user>Hi<assistant>" in caplog.text
    assert any(getattr(h, "_easyllm", False) for h in logging.getLogger("easyllm").handlers)


@pytest.mark.parametrize("content", [b"<html>Bad gateway</html>", b'{"generated_text": "caf\xe9"}', b""])
def test_an_answer_that_is_not_json_or_not_utf8_raises_api_error(make_runner: Any, content: bytes) -> None:
    run = make_runner(reply(200, content=content))
    with pytest.raises(errors.APIError, match="non-JSON") as info:
        chat(run)
    assert isinstance(info.value.__cause__, ValueError) and len(run.server.requests) == 1


def test_an_answer_with_python_s_nan_and_big_integers_reads_as_before(make_runner: Any) -> None:
    body = b'[{"generated_text": "ok", "details": {"finish_reason": "length", "generated_tokens": 1, '
    body += b'"seed": 36893488147419103232, "prefill": [], "tokens": [{"id": 1, "text": "ok", "logprob": NaN}]}}]'
    r = chat(make_runner(reply(200, content=body)))
    assert r["choices"][0]["message"]["content"] == "ok"


def _three_calls_on_one_client(shell: str, handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    """Three chat calls through the facade on one client made as easyllm makes its own; returns the client."""
    kwargs = dict(CHAT_CALL)
    if shell == "sync":
        huggingface.http_client = client = new_http_client(httpx.MockTransport(handler))
        for _ in range(3):
            huggingface.ChatCompletion.create(**kwargs)
        return client

    async def calls() -> httpx.AsyncClient:
        async with new_async_http_client(httpx.MockTransport(handler)) as client:
            huggingface.async_http_client = client
            for _ in range(3):
                await huggingface.ChatCompletion.acreate(**kwargs)
        return client

    return asyncio.run(calls())


@pytest.mark.parametrize("header", ["set-cookie", "Set-Cookie"])
def test_easyllm_s_own_clients_keep_cookies_a_server_sets(shell: str, header: str) -> None:
    """Answers without cookies skip httpx's cookie parsing; one that sets a cookie is still remembered and sent."""
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        headers = {header: "session=abc; Path=/"} if len(seen) == 2 else {}
        return httpx.Response(200, json=generate_body("ok"), headers=headers)

    client = _three_calls_on_one_client(shell, handler)
    assert seen == [None, None, "session=abc"]
    assert client.headers["user-agent"].startswith("easyllm/")


def test_httpx_s_request_log_is_written_when_it_is_on(make_runner: Any, caplog: pytest.LogCaptureFixture) -> None:
    """With the `httpx` logger at INFO, whole answers go through `send`, which writes that log."""
    run = make_runner(OK)
    with caplog.at_level(logging.INFO, logger="httpx"):
        chat(run)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == ['HTTP Request: POST http://tgi.test "HTTP/1.1 200 OK"']


def test_credentials_in_the_url_are_sent_as_basic_auth(make_runner: Any) -> None:
    """httpx's `send` makes Basic auth from a URL's user and password; such a request does not skip it."""
    run = make_runner(OK)
    chat(run, api_base="http://user:pw@tgi.test")
    assert run.server.requests[0].headers["authorization"] == "Basic dXNlcjpwdw=="


@pytest.mark.parametrize("what", ["auth", "hooks"])
def test_auth_or_event_hooks_set_on_an_easyllm_made_client_are_applied(shell: str, what: str) -> None:
    """A caller may set `auth` or event hooks on a client from `new_http_client`; its requests then go through
    `send`, which applies them."""
    seen: list[httpx.Request] = []
    hooked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return OK(request)

    async def ahook(response: httpx.Response) -> None:
        hooked.append(response.status_code)

    def configure(client: httpx.Client | httpx.AsyncClient) -> None:
        if what == "auth":
            client.auth = ("user", "pw")
        else:
            hook = ahook if isinstance(client, httpx.AsyncClient) else (lambda r: hooked.append(r.status_code))
            client.event_hooks = {"response": [hook]}

    kwargs = dict(CHAT_CALL)
    if shell == "sync":
        huggingface.http_client = client = new_http_client(httpx.MockTransport(handler))
        configure(client)
        huggingface.ChatCompletion.create(**kwargs)
    else:

        async def call() -> None:
            async with new_async_http_client(httpx.MockTransport(handler)) as client:
                configure(client)
                huggingface.async_http_client = client
                await huggingface.ChatCompletion.acreate(**kwargs)

        asyncio.run(call())
    if what == "auth":
        assert seen[0].headers["authorization"] == "Basic dXNlcjpwdw=="
    else:
        assert hooked == [200]


def test_an_error_answer_read_directly_has_its_request_and_elapsed_time(make_runner: Any) -> None:
    run = make_runner(reply(400, json_body={"error": "bad"}))
    with pytest.raises(errors.BadRequestError) as info:
        chat(run)
    response = info.value.response
    assert response.request.url == "http://tgi.test" and response.elapsed.total_seconds() >= 0


def test_a_transport_error_keeps_its_request(make_runner: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    run = make_runner(refuse)
    with pytest.raises(errors.APIConnectionError, match="ConnectError: refused") as info:
        chat(run, max_retries=0)
    cause = info.value.__cause__
    assert isinstance(cause, httpx.ConnectError) and cause.request.url == "http://tgi.test"


def test_a_closed_client_refuses_as_httpx_does(shell: str) -> None:
    kwargs = {**CHAT_CALL, "max_retries": 0}
    with pytest.raises(RuntimeError, match="client has been closed"):
        if shell == "sync":
            huggingface.http_client = new_http_client(httpx.MockTransport(OK))
            huggingface.http_client.close()
            huggingface.ChatCompletion.create(**kwargs)
        else:

            async def closed() -> None:
                huggingface.async_http_client = client = new_async_http_client(httpx.MockTransport(OK))
                await client.aclose()
                await huggingface.ChatCompletion.acreate(**kwargs)

            asyncio.run(closed())


class _Proxy(http.server.BaseHTTPRequestHandler):
    """An HTTP proxy that answers every request itself, recording the request line it was sent."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.seen.append(self.requestline)
        body = json.dumps(generate_body("proxied")).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


def test_a_proxy_named_by_the_environment_is_used(shell: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """easyllm's pooled clients send through `HTTP_PROXY` (httpx mounts it; no request skips `send` then)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Proxy.seen = []
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    kwargs = {**CHAT_CALL, "api_base": "http://through-proxy.test"}
    try:
        if shell == "sync":
            answer = huggingface.ChatCompletion.create(**kwargs)
            transport.close_pools()
        else:

            async def call() -> Any:
                try:
                    return await huggingface.ChatCompletion.acreate(**kwargs)
                finally:
                    await transport.aclose_pools()

            answer = asyncio.run(call())
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert answer.choices[0].message.content == "proxied"
    assert _Proxy.seen == ["POST http://through-proxy.test/ HTTP/1.1"]
