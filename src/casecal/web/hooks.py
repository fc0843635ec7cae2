"""Routers and startup tasks contributed by optional parts of the app, in one place."""

from __future__ import annotations

from fastapi import FastAPI


def include_ui(app: FastAPI) -> None:
    from casecal.web.ui import ui_router

    app.include_router(ui_router)
