"""The gateway: one nameko service whose routes come from gateway/routes/. No business rules here."""

from gateway.routes.admin import AdminRoutes
from gateway.routes.associations import AssociationRoutes
from gateway.routes.auth import AuthRoutes
from gateway.routes.health import HealthRoutes
from gateway.routes.individuals import IndividualRoutes
from gateway.routes.search import SearchRoutes
from servicekit.logs import CallIdLogging
from servicekit.rpc import TimedRpcProxy


class GatewayService(HealthRoutes, AuthRoutes, AssociationRoutes, IndividualRoutes, AdminRoutes, SearchRoutes):
    name = "gateway"

    registry = TimedRpcProxy("registry")
    search = TimedRpcProxy("search")
    call_id_logging = CallIdLogging()
