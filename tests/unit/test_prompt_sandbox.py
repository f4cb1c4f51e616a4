"""How chat templates render: the sandbox, transformers' globals and filters, and the template variables."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from jinja2.exceptions import SecurityError

from easyllm.errors import InvalidParameterError
from easyllm.prompt_utils import ChatTemplate, ChatTemplateError, ChatTemplateSecurityError, from_chat_template

HI = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.system('echo pwned') }}",
        "{{ messages.__class__.__base__.__subclasses__() }}",
        "{% set _ = messages.append({'role': 'user', 'content': 'injected'}) %}",
        "{% set _ = messages[0].update({'content': 'changed'}) %}",
        "{{ raise_exception.__globals__ }}",
        "{{ messages.__class__ }}",
        "{{ messages[0]|attr('__class__') }}",
    ],
)
def test_sandbox_escapes_raise_a_security_error_instead_of_running(template: str) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    with pytest.raises(ChatTemplateSecurityError) as info:
        ChatTemplate(template)(messages)
    assert isinstance(info.value, ChatTemplateError)
    assert isinstance(info.value, InvalidParameterError)
    assert isinstance(info.value.__cause__, SecurityError)
    assert messages == [{"role": "user", "content": "Hi"}]


def test_raise_exception_becomes_a_refusal_with_the_templates_words() -> None:
    template = (
        "{% if messages[0]['role'] != 'user' %}{{ raise_exception('First message must be from the user') }}{% endif %}"
    )
    with pytest.raises(ChatTemplateError, match="First message must be from the user") as info:
        ChatTemplate(template, name="demo template")([{"role": "assistant", "content": "x"}])
    assert not isinstance(info.value, ChatTemplateSecurityError)
    assert info.value.param == "messages"
    assert "demo template" in str(info.value)


def test_syntax_errors_are_reported_when_the_template_is_made() -> None:
    with pytest.raises(ChatTemplateError, match="does not compile"):
        ChatTemplate("{% for m in messages %}{{ m.content }}")


def test_missing_variable_gives_a_hint() -> None:
    fmt = from_chat_template("{{ bos_token + messages[0].content }}")
    with pytest.raises(ChatTemplateError, match="bos_token="):
        fmt(HI)
    assert from_chat_template("{{ bos_token + messages[0].content }}", bos_token="<s>")(HI) == "<s>Hi"


def test_tojson_keeps_non_ascii_and_does_not_html_escape() -> None:
    template = "{{ messages[0] | tojson }}|{{ messages[0].content | tojson(indent=2) }}"
    messages = [{"role": "user", "content": "Grüße <b>&'\"</b> 👋"}]
    rendered = ChatTemplate(template)(messages)
    assert rendered == '{"role": "user", "content": "Grüße <b>&\'\\"</b> 👋"}|"Grüße <b>&\'\\"</b> 👋"'


def test_strftime_now_gives_the_current_date() -> None:
    rendered = ChatTemplate("{{ strftime_now('%Y-%m-%d') }}")(HI)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rendered)
    assert abs(datetime.strptime(rendered, "%Y-%m-%d").toordinal() - datetime.now().toordinal()) <= 1


def test_trim_blocks_lstrip_blocks_and_loop_controls() -> None:
    template = (
        "{% for m in messages %}\n"
        "    {% if loop.index > 2 %}{% break %}{% endif %}\n"
        "    {% if m.role == 'system' %}{% continue %}{% endif %}\n"
        "[{{ m.content }}]\n"
        "{% endfor %}"
    )
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "user", "content": "x"}]
    assert ChatTemplate(template)(messages) == "[u]\n"


def test_generation_tag_renders_its_body() -> None:
    template = "{% for m in messages %}{% generation %}<{{ m.content }}>{% endgeneration %}{% endfor %}"
    assert ChatTemplate(template)([{"role": "assistant", "content": "a"}, {"role": "user", "content": "b"}]) == "<a><b>"


def test_variables_tools_documents_and_extra_kwargs() -> None:
    template = "{{ add_generation_prompt }}|{{ tools | tojson }}|{{ documents | tojson }}|{{ enable_thinking }}"
    template += "|{{ eos_token }}"
    fmt = from_chat_template(template, eos_token="</s>", enable_thinking=False)
    assert fmt(HI) == "True|null|null|False|</s>"
    tools = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]
    bound = from_chat_template(template, eos_token="</s>", tools=tools)
    assert (
        bound(HI).split("|")[1]
        == '[{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]'
    )
    rendered = bound.build.render(HI, add_generation_prompt=False, tools=[], documents=[{"text": "d"}], eos_token="E")  # type: ignore[attr-defined]
    assert rendered == 'False|[]|[{"text": "d"}]||E'


def test_template_sees_a_copy_of_each_message_including_extra_keys() -> None:
    template = "{{ messages[0].name }}:{{ messages[0].content }}"
    messages = [{"role": "user", "content": "Hi", "name": "ann"}]
    assert ChatTemplate(template)(messages) == "ann:Hi"
    assert ChatTemplate(template)("just text") == ":just text"
    with pytest.raises(InvalidParameterError, match="mapping"):
        ChatTemplate(template)(["not a message"])  # type: ignore[list-item]


def test_type_errors_inside_the_template_are_reported_as_template_errors() -> None:
    with pytest.raises(ChatTemplateError, match="failed to render"):
        ChatTemplate("{{ messages[0].content + 1 }}")(HI)
