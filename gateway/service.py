"""The gateway's routes: parse, call the service, render. No business rules here."""

import eventlet
from werkzeug.wrappers import Request

from contracts.associations import AssociationDraft
from contracts.search import AssociationQuery
from contracts.validation import parse
from gateway.http import api, read_json
from servicekit.bus import BrokerUnreachable, check_broker
from servicekit.logs import CallIdLogging
from servicekit.rpc import TimedRpcProxy
from servicekit.settings import BusSettings

PINGED_SERVICES = ("registry", "search")
READINESS_TIMEOUT_SECONDS = 2.0


class GatewayService:
    name = "gateway"

    registry = TimedRpcProxy("registry")
    search = TimedRpcProxy("search")
    call_id_logging = CallIdLogging()

    @api("GET", "/healthz")
    def healthz(self, request: Request):
        return {"status": "up"}

    @api("GET", "/readyz")
    def readyz(self, request: Request):
        checks = {"broker": self._broker_answers()}
        pings = {name: eventlet.spawn(self._service_answers, name) for name in PINGED_SERVICES}
        checks.update({name: ping.wait() for name, ping in pings.items()})
        ready = all(checks.values())
        return (200 if ready else 503), {"status": "ready" if ready else "not_ready", "checks": checks}

    @api("POST", "/api/v1/associations")
    def register_association(self, request: Request):
        draft = parse(AssociationDraft, read_json(request))
        association = self.registry.register_association(draft.model_dump(mode="json"))
        return 201, {"id": association["id"], "status": association["status"]}

    @api("GET", "/api/v1/associations/<string:association_id>")
    def get_association(self, request: Request, association_id: str):
        return self.registry.get_association(association_id)

    @api("GET", "/api/v1/search/associations")
    def search_associations(self, request: Request):
        query = parse(AssociationQuery, request.args.to_dict())
        return self.search.search_associations(query.model_dump(mode="json", exclude_none=True))

    def _broker_answers(self) -> bool:
        try:
            check_broker(BusSettings().amqp_uri, READINESS_TIMEOUT_SECONDS)
        except BrokerUnreachable:
            return False
        return True

    def _service_answers(self, name: str) -> bool:
        try:
            with eventlet.Timeout(READINESS_TIMEOUT_SECONDS):
                return getattr(self, name).ping() == name
        except (Exception, eventlet.Timeout):
            return False
