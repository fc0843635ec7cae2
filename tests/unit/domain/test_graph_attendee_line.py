"""Graph mails every attendee it is written (no sendUpdates=none): by default CaseCal writes
none, and names them in a last line of the body that reads back as the same attendees."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.attendee_line import LABEL, split_attendee_line, with_attendee_line
from casecal.domain.event import Attendee, CanonicalEvent
from casecal.providers.msgraph.json import from_graph, to_graph

NY = ZoneInfo("America/New_York")
FOOTER = "Bring the I-94\n\nCaseCal: http://127.0.0.1:8000/entries/appointment/1b2c"


def consultation(**extra: object) -> CanonicalEvent:
    values: dict[str, object] = {
        "title": "Client consultation",
        "start": datetime(2026, 3, 12, 9, tzinfo=NY),
        "end": datetime(2026, 3, 12, 10, tzinfo=NY),
        "tz": "America/New_York",
        "description": FOOTER,
        "attendees": (Attendee("maria@client.example", "Maria Lopez"),
                      Attendee("interpreter@example.org")),
    }  # fmt: skip
    return CanonicalEvent(**(values | extra))  # type: ignore[arg-type]


def test_attendees_are_a_body_line_not_graph_attendees() -> None:
    body = to_graph(consultation())
    assert "attendees" not in body  # nothing for Exchange to mail; existing ones kept
    assert body["body"]["content"] == (
        f"{FOOTER}\n\n{LABEL}interpreter@example.org; Maria Lopez <maria@client.example>"
    )


def test_the_line_reads_back_as_the_same_event() -> None:
    event = consultation()
    back = from_graph(to_graph(event))
    assert back.description == FOOTER
    assert back.attendees == event.attendees
    assert back.fingerprint() == event.fingerprint()  # no echo on the next round


def test_opting_in_writes_attendees_and_no_line() -> None:
    body = to_graph(consultation(), invite=True)
    assert [a["emailAddress"]["address"] for a in body["attendees"]] == [
        "interpreter@example.org", "maria@client.example"
    ]  # fmt: skip
    assert body["body"]["content"] == FOOTER


def test_no_attendees_no_line() -> None:
    assert to_graph(consultation(attendees=()))["body"]["content"] == FOOTER


def test_real_attendees_and_the_line_merge_and_html_bodies_read_too() -> None:
    body = to_graph(consultation())
    body["attendees"] = [{"emailAddress": {"address": "Maria@Client.example", "name": "M"},
                          "status": {"response": "accepted"}}]  # fmt: skip
    html = body["body"]["content"].replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
    body["body"] = {"contentType": "html", "content": f"<html><body>{html}</body></html>"}
    back = from_graph(body)
    assert back.description == FOOTER
    assert [(a.email.lower(), a.response) for a in back.attendees] == [
        ("interpreter@example.org", "needsAction"), ("maria@client.example", "accepted")
    ]  # fmt: skip


def test_a_line_that_does_not_read_as_attendees_stays_text() -> None:
    text = f"Notes\n\n{LABEL}whoever turns up, and bring coffee"
    assert split_attendee_line(text) == (text, ())


people = st.lists(
    st.builds(
        Attendee,
        email=st.from_regex(r"[a-z0-9.]{1,12}@[a-z]{1,8}\.(org|com)", fullmatch=True),
        name=st.text(st.characters(blacklist_characters="<>;\r\n", codec="utf-8"), max_size=20).map(
            lambda n: " ".join(n.split())
        ),
    ),
    max_size=4,
)


@given(description=st.text(max_size=60).map(lambda t: t.replace("\r", "")), who=people)
def test_round_trip_of_any_description_and_attendees(description: str, who: list[Attendee]) -> None:
    unique = {a.email.casefold(): a for a in who}
    text = with_attendee_line(description, unique.values())
    back, listed = split_attendee_line(text)
    if unique:
        assert back == description
        assert {(a.email, a.name) for a in listed} == {(a.email, a.name) for a in unique.values()}
    else:
        assert text == description
