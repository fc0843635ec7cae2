"""The UI's few static files (one stylesheet, one small script), served by name."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from casecal.web.ui.templating import STATIC_DIR

router = APIRouter()

_TYPES = {".css": "text/css", ".js": "text/javascript"}


@router.get("/static/{name}")
async def static_file(name: str) -> FileResponse:
    path = STATIC_DIR / name
    kind = _TYPES.get(path.suffix)
    if kind is None or "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "max-age=3600"})
