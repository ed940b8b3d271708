"""The gateway: one nameko service whose routes come from gateway/routes/. No business rules here."""

from gateway.association_changes import AssociationChanges
from gateway.auth import principal_cache
from gateway.pages.accounts import AccountPages
from gateway.pages.associations import AssociationPages
from gateway.pages.cases import CasePages
from gateway.pages.cell import CellPages
from gateway.pages.dashboard import DashboardPages
from gateway.pages.directory import DirectoryPages
from gateway.pages.help import HelpPages
from gateway.pages.home import HomePages
from gateway.pages.individuals import IndividualPages
from gateway.pages.memberships import MembershipPages
from gateway.pages.second_factor import SecondFactorPages
from gateway.routes.admin import AdminRoutes
from gateway.routes.advisories import AdvisoryRoutes
from gateway.routes.alerts import AlertRoutes
from gateway.routes.associations import AssociationRoutes
from gateway.routes.auth import AuthRoutes
from gateway.routes.docs import DocsRoutes
from gateway.routes.health import HealthRoutes
from gateway.routes.individuals import IndividualRoutes
from gateway.routes.messaging import MessagingRoutes
from gateway.routes.search import SearchRoutes
from gateway.settings import GatewaySettings
from servicekit.logs import CallIdLogging
from servicekit.metrics import Metrics
from servicekit.rpc import TimedRpcProxy
from servicekit.settings import BusSettings
from servicekit.shared import Shared


class GatewayService(
    HealthRoutes,
    DocsRoutes,
    AuthRoutes,
    AssociationRoutes,
    IndividualRoutes,
    AdminRoutes,
    SearchRoutes,
    MessagingRoutes,
    AdvisoryRoutes,
    AlertRoutes,
    HomePages,
    DirectoryPages,
    AccountPages,
    AssociationPages,
    IndividualPages,
    MembershipPages,
    SecondFactorPages,
    HelpPages,
    CasePages,
    DashboardPages,
    CellPages,
):
    name = "gateway"

    registry = TimedRpcProxy("registry")
    search = TimedRpcProxy("search")
    messaging = TimedRpcProxy("messaging")
    alerts = TimedRpcProxy("alerts")
    settings = Shared(GatewaySettings)
    principals = Shared(principal_cache)
    public_reads = AssociationChanges()
    bus_settings = Shared(BusSettings)
    call_id_logging = CallIdLogging()
    metrics = Metrics()
