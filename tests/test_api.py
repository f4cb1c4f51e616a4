"""The public surface: exports, sync/async parity, nothing done at import, the CLI entry point."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import easyllm
from easyllm import cli, errors
from easyllm.clients import huggingface


def test_all_lists_exactly_the_public_names() -> None:
    # Submodules appear as attributes once imported (by this or other tests); they are not exports.
    public = {n for n in dir(easyllm) if not n.startswith("_") and not inspect.ismodule(getattr(easyllm, n))}
    public -= {"annotations"}
    assert set(easyllm.__all__) - {"__version__"} == public
    for name in easyllm.__all__:
        assert getattr(easyllm, name) is not None


def test_error_names_match_openai() -> None:
    import openai

    for name in (
        "APIError",
        "APIConnectionError",
        "APITimeoutError",
        "APIStatusError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "UnprocessableEntityError",
        "RateLimitError",
        "InternalServerError",
        "ConflictError",
        "APIResponseValidationError",
        "LengthFinishReasonError",
        "ContentFilterFinishReasonError",
    ):
        assert hasattr(openai, name) and hasattr(easyllm, name), name
    for name in (
        "APIError",
        "Timeout",
        "RateLimitError",
        "APIConnectionError",
        "InvalidRequestError",
        "AuthenticationError",
        "PermissionError",
        "ServiceUnavailableError",
        "OpenAIError",
        "TryAgain",
    ):
        assert issubclass(getattr(huggingface.error, name), errors.EasyLLMError), name


@pytest.mark.parametrize("api", [huggingface.ChatCompletion, huggingface.Completion, huggingface.Embedding])
def test_sync_and_async_signatures_match(api: type) -> None:
    sync, asyn = inspect.signature(api.create), inspect.signature(api.acreate)  # type: ignore[attr-defined]
    assert sync.parameters.keys() == asyn.parameters.keys()
    assert inspect.iscoroutinefunction(api.acreate)  # type: ignore[attr-defined]
    assert api.create.__doc__ and api.acreate.__doc__  # type: ignore[attr-defined]


def test_import_reads_and_connects_nothing_and_stays_light() -> None:
    code = (
        "import sys, os\n"
        "os.environ['HUGGINGFACE_API_BASE'] = 'http://set-after.test'\n"
        "from easyllm.clients import huggingface\n"
        "heavy = [m for m in ('huggingface_hub', 'jinja2', 'openai', 'torch') if m in sys.modules]\n"
        "print(heavy, huggingface.api_key, huggingface.api_base)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] None None"


def test_cli_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert easyllm.__version__ in capsys.readouterr().out
    assert cli.main([]) == 2
    assert "prompt" in capsys.readouterr().out
