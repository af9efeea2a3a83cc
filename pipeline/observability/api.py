"""/metrics, /healthz and /readyz on the API. Its /metrics also carries the kitchen-wide gauges
(`KitchenCollector`: ledger, outbox, consumer lag), which no worker exports."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import REGISTRY, CollectorRegistry

from pipeline.config import Settings
from pipeline.observability.health import Health
from pipeline.observability.metrics import KitchenCollector, exposition


def router(settings: Settings) -> APIRouter:
    kitchen = CollectorRegistry(auto_describe=False)
    kitchen.register(KitchenCollector(settings.kafka_bootstrap, settings.kafka_topic_prefix))
    # Kafka is reported, not required: with the broker away sign-off still works (the outbox waits).
    health = Health(settings.database_url, settings.kafka_bootstrap, required=("database",))
    api = APIRouter(tags=["operations"])

    @api.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        body, content_type = exposition(request.headers.get("accept"), REGISTRY, kitchen)
        return Response(body, media_type=content_type)

    @api.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        ok, body = health.live()
        return JSONResponse(body, status_code=200 if ok else 503)

    @api.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        ok, body = health.ready()
        return JSONResponse(body, status_code=200 if ok else 503)

    return api
