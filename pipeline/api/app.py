"""The FastAPI application: API routes under /api/v1, media under /media, the portal sites under
/sites and the app feeds under /feeds (any static web server can serve those folders too)."""

from fastapi import APIRouter, FastAPI

from connectors.appfeed.serve import feeds_app
from connectors.portal.serve import SITES_MOUNT, sites_app
from pipeline import console
from pipeline.api import problems
from pipeline.api.deps import CurrentUser
from pipeline.api.limits import BodySizeLimit
from pipeline.api.routes import audit, distributions, governance, items, media, targets, units
from pipeline.config import Settings, get_settings
from pipeline.media.upload import MAX_IMAGE_BYTES
from pipeline.observability import api as observability_api

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="Central Kitchen", version="0.1.0", openapi_url=f"{API_PREFIX}/openapi.json",
                  docs_url=f"{API_PREFIX}/docs", redoc_url=None)
    problems.install(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (items, distributions, targets, audit, units, media, governance):
        api.include_router(module.router)

    @api.get("/me", tags=["users"])
    def me(user: CurrentUser):
        return {"name": user.name, "role": user.role, "display_name": user.display_name}

    app.include_router(api)
    app.include_router(media.public)
    app.include_router(observability_api.router(settings))  # /metrics /healthz /readyz
    app.include_router(observability_api.router(settings))  # /metrics /healthz /readyz
    console.install(app, settings)  # /console and its session middleware, before the catch-all "/" mount
    app.mount(SITES_MOUNT, sites_app(settings.sites_dir))
    app.mount("/", feeds_app(settings.feeds_dir))  # serves /feeds/…; mounted last, it matches the rest
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes + 64 * 1024,
                       per_path={f"{API_PREFIX}/media": MAX_IMAGE_BYTES + 64 * 1024})
    return app
