"""The UI's few static files (stylesheets and small scripts), served by name, and Swagger UI's
files for the API explorer, from the installed ``fastapi-offline`` package."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from casecal.web.ui.templating import STATIC_DIR

router = APIRouter()

_TYPES = {".css": "text/css", ".js": "text/javascript"}
SWAGGER_UI_DIR = Path(str(files("fastapi_offline") / "static"))
_SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    path = STATIC_DIR / name
    kind = _TYPES.get(path.suffix)
    if kind is None or "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "max-age=3600"})


@router.get("/static/swagger-ui/{name}")
async def swagger_ui_file(name: str) -> FileResponse:
    kind = _SWAGGER_UI_FILES.get(name)
    if kind is None:
        raise HTTPException(404, "no such file")
    path = SWAGGER_UI_DIR / name
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "max-age=86400"})
