"""A browser without a browser: an httpx client with cookies that follows redirects and submits
the HTML forms it is shown (hidden fields, checked boxes and radios, selected options, the
clicked button), so the OAuth flows run through the same pages a person clicks through."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)
    """(name, value, text) of each submit button."""


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input":
            self._input(a)
        elif tag == "select":
            self._select, self._select_value = a.get("name", ""), None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def _input(self, a: dict[str, str]) -> None:
        kind, name = a.get("type", "text").lower(), a.get("name", "")
        if not name and kind != "submit":
            return
        if kind == "submit":
            self.forms[-1].buttons.append((name, a.get("value", ""), a.get("value", "")))
        elif kind in ("checkbox", "radio"):
            if "checked" in a:
                self.forms[-1].fields.append((name, a.get("value", "on")))
        else:
            self.forms[-1].fields.append((name, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None and self.forms:
            self.forms[-1].fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "button" and self._button is not None and self.forms:
            name, value, text = self._button
            self.forms[-1].buttons.append((name, value, " ".join(text.split())))
            self._button = None


def forms_of(page: httpx.Response) -> list[Form]:
    parser = _FormParser()
    parser.feed(page.text)
    for form in parser.forms:
        form.action = urljoin(str(page.url), form.action or str(page.url))
    return parser.forms


class FormBrowser:
    """One person's browser: a cookie jar and the page last shown."""

    def __init__(self) -> None:
        self.http = httpx.Client(follow_redirects=True, timeout=30)
        self.page: httpx.Response | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> FormBrowser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def goto(self, url: str) -> httpx.Response:
        self.page = self.http.get(url)
        return self.page

    def submit(self, button: str, values: dict[str, str] | None = None) -> httpx.Response:
        """Click the submit button whose text (or value) is ``button`` on the current page,
        with ``values`` typed into the form's fields."""
        assert self.page is not None, "no page open"
        for form in forms_of(self.page):
            for name, value, text in form.buttons:
                if button in (text, value):
                    data = [(k, v) for k, v in form.fields if k not in (values or {})]
                    data += list((values or {}).items())
                    if name:
                        data.append((name, value))
                    if form.method == "post":
                        self.page = self.http.post(form.action, data=_grouped(data))
                    else:
                        self.page = self.http.get(form.action, params=_grouped(data))
                    return self.page
        shown = [b[2] or b[1] for f in forms_of(self.page) for b in f.buttons]
        raise AssertionError(f"no button {button!r} on {self.page.url}; buttons: {shown}")


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields as httpx posts them: a repeated name (a list of checkboxes) keeps each."""
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped
