"""Serving the generated sites: `/sites/{site}/…` straight from the sites folder.

    app.mount(SITES_MOUNT, sites_app(settings.sites_dir))

Folder URLs serve their `index.html`. Bookkeeping files (`_manifest.json`, `.lock`, temp files)
are never served, and every response forbids scripts, as the pages themselves do.
"""

from pathlib import Path, PurePosixPath

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

SITES_MOUNT = "/sites"
SECURITY_HEADERS = {
    "Content-Security-Policy": "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
}


class _SiteFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        if any(part.startswith(("_", ".")) for part in PurePosixPath(path).parts):
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def sites_app(sites_dir: Path | str) -> StaticFiles:
    """An ASGI app serving every site under `sites_dir`; mount it at `SITES_MOUNT`."""
    Path(sites_dir).mkdir(parents=True, exist_ok=True)
    return _SiteFiles(directory=sites_dir, html=True)
