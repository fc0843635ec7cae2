"""The appointment visibility rule: properties over every viewer and every appointment."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from casecal.domain.visibility import Facts, View, Viewer, personal, view_of

OWNER = uuid.UUID(int=1)
people = st.sampled_from([OWNER, uuid.UUID(int=2), uuid.UUID(int=3)])
viewers = st.builds(Viewer, user_id=people, is_admin=st.booleans())
appointments = st.builds(
    Facts,
    owner_id=st.just(OWNER),
    imported=st.booleans(),
    has_case=st.booleans(),
    private=st.booleans(),
    shared=st.booleans(),
)


@given(viewers, appointments)
def test_the_owner_sees_everything_of_their_own(viewer: Viewer, facts: Facts) -> None:
    if viewer.user_id == facts.owner_id:
        assert view_of(viewer, facts) is View.FULL


@given(viewers, appointments)
def test_personal_imports_are_the_owners_alone(viewer: Viewer, facts: Facts) -> None:
    if viewer.user_id != facts.owner_id and personal(facts):
        expected = View.BUSY if viewer.is_admin else View.HIDDEN
        assert view_of(viewer, facts) is expected


@given(viewers, appointments)
def test_private_is_never_read_by_others(viewer: Viewer, facts: Facts) -> None:
    if viewer.user_id != facts.owner_id and facts.private:
        assert view_of(viewer, facts) < View.FULL


@given(viewers, appointments)
def test_sharing_never_shows_less_and_admins_see_at_least_a_block(
    viewer: Viewer, facts: Facts
) -> None:
    unshared = Facts(facts.owner_id, facts.imported, facts.has_case, facts.private, False)
    shared = Facts(facts.owner_id, facts.imported, facts.has_case, facts.private, True)
    assert view_of(viewer, shared) >= view_of(viewer, unshared)
    if viewer.is_admin:
        assert view_of(viewer, facts) >= View.BUSY


@given(viewers, appointments)
def test_the_firms_calendar_is_everyones(viewer: Viewer, facts: Facts) -> None:
    """Made in CaseCal or filed under a case, and not private: the whole firm sees it."""
    if (not facts.imported or facts.has_case or facts.shared) and not facts.private:
        assert view_of(viewer, facts) is View.FULL
