"""Liveness and readiness."""

import eventlet
from werkzeug.wrappers import Request

from contracts.health import Liveness, Readiness
from gateway.http import Session, api
from servicekit.bus import BrokerUnreachable, check_broker
from services.catalogue import pinged_names

PINGED_SERVICES = pinged_names()  # services/catalogue.py
READINESS_TIMEOUT_SECONDS = 2.0


class HealthRoutes:
    @api("GET", "/healthz", summary="The gateway is up", who="anyone", session=Session.NONE, returns=Liveness)
    def healthz(self, request: Request):
        return {"status": "up"}

    @api(
        "GET",
        "/readyz",
        summary="RabbitMQ and every service answer (503 and which one does not, otherwise)",
        who="anyone",
        session=Session.NONE,
        returns=Readiness,
    )
    def readyz(self, request: Request):
        checks = {"broker": self._broker_answers()}
        pings = {name: eventlet.spawn(self._service_answers, name) for name in PINGED_SERVICES}
        checks.update({name: ping.wait() for name, ping in pings.items()})
        ready = all(checks.values())
        return (200 if ready else 503), {"status": "ready" if ready else "not_ready", "checks": checks}

    def _broker_answers(self) -> bool:
        try:
            check_broker(self.bus_settings.amqp_uri, READINESS_TIMEOUT_SECONDS)
        except BrokerUnreachable:
            return False
        return True

    def _service_answers(self, name: str) -> bool:
        try:
            with eventlet.Timeout(READINESS_TIMEOUT_SECONDS):
                return getattr(self, name).ping() == name
        except (Exception, eventlet.Timeout):
            return False
