"""Fixtures of the SSO tests (the world itself lives in ``sso_world``)."""

from sso_world import app_settings, independent_idp, sso_world

__all__ = ["app_settings", "independent_idp", "sso_world"]
