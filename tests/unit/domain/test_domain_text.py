"""HTML bodies from Graph to plain text with the standard library parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.text import body_text, html_to_text, text_to_html


def test_paragraphs_breaks_and_entities() -> None:
    markup = (
        "<html><head><style>p {color: red}</style><title>x</title></head><body>"
        "<p>Hello&nbsp;<b>world</b> &amp; co &lt;3</p><p>Second<br>line<br/>third</p>"
        "</body></html>"
    )
    assert html_to_text(markup) == "Hello world & co <3\n\nSecond\nline\nthird"


def test_lists_get_bullets_and_numbers() -> None:
    markup = "<ul><li>Passport</li><li>I-94</li></ul><ol><li>Call</li><li>File</li></ol>"
    assert html_to_text(markup) == "- Passport\n- I-94\n1. Call\n2. File"


def test_exchange_style_body() -> None:
    markup = (
        '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '\r\n</head>\r\n<body>\r\n<div class="PlainText">Bring the I-130<br>\r\n'
        "Room 4&#8203;B<br>\r\n</div>\r\n</body>\r\n</html>\r\n"
    )
    assert html_to_text(markup) == "Bring the I-130\nRoom 4\u200bB"


def test_whitespace_collapses_but_pre_is_kept() -> None:
    assert html_to_text("<div>a    b\n   c</div>") == "a b c"
    assert html_to_text("<pre>a    b\n  c</pre>") == "a    b\n  c"


def test_body_text_by_content_type() -> None:
    assert body_text("a\r\nb", "text") == "a\nb"
    assert body_text("<p>a</p>", "HTML") == "a"


words = st.text(st.characters(whitelist_categories=("L", "N", "P", "S")), min_size=1, max_size=8)
lines = st.lists(words, min_size=0, max_size=4).map(" ".join)


@given(st.lists(lines, min_size=1, max_size=5).map("\n".join))
def test_text_to_html_and_back_is_identity(text: str) -> None:
    expected = text.strip("\n")
    assert html_to_text(text_to_html(text)) == expected
