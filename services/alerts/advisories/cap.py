"""An advisory as one OASIS Common Alerting Protocol 1.2 alert, built with xml.etree (which escapes every text).

Element order follows the CAP 1.2 schema. The alert declares the CAP namespace as its default (an `xmlns`
attribute on unqualified names), so that it reads the same written alone or inside an Atom entry. Times are
written as CAP wants them: seconds, a numeric offset, and UTC as `-00:00` (CAP forbids `Z`).
"""

from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pycountry

from contracts.advisories import AdvisoryV1, Area
from services.alerts.advisories.domain import PUBLISHER

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_MEDIA_TYPE = "application/cap+xml"
# The geocode name for ISO 3166-1 alpha-2 country codes.
COUNTRY_GEOCODE = "ISO3166-1"


def cap_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S-00:00")


def identifier(advisory: AdvisoryV1) -> str:
    """Unique for the sender, with no spaces, commas, `<` or `&` (as CAP requires)."""
    return f"urn:uuid:{advisory.id}"


def sender(public_url: str) -> str:
    return f"cell@{urlsplit(public_url).hostname or 'diasporahub'}"


def area_description(area: Area) -> str:
    if area.circle is not None:
        circle = area.circle
        return f"Within {circle.radius_km:g} km of {circle.lat:.4f}, {circle.lon:.4f}"
    return ", ".join(pycountry.countries.get(alpha_2=code).name for code in area.countries)


def alert_element(advisory: AdvisoryV1, *, public_url: str, link: str) -> ElementTree.Element:
    """The `<alert>` element, to write alone or inside an Atom entry."""

    def child(parent: ElementTree.Element, name: str, text: str | None = None) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, name)
        element.text = text
        return element

    alert = ElementTree.Element("alert", xmlns=CAP_NAMESPACE)
    child(alert, "identifier", identifier(advisory))
    child(alert, "sender", sender(public_url))
    child(alert, "sent", cap_time(advisory.published_at))
    child(alert, "status", "Actual")
    child(alert, "msgType", "Alert")
    child(alert, "scope", "Public")
    info = child(alert, "info")
    child(info, "language", "en")
    child(info, "category", "Safety")
    child(info, "event", advisory.headline)
    child(info, "urgency", advisory.urgency)
    child(info, "severity", advisory.severity)
    child(info, "certainty", advisory.certainty)
    child(info, "effective", cap_time(advisory.published_at))
    child(info, "expires", cap_time(advisory.expires_at))
    child(info, "senderName", PUBLISHER)
    child(info, "headline", advisory.headline)
    child(info, "description", advisory.description)
    if advisory.instruction:
        child(info, "instruction", advisory.instruction)
    child(info, "web", link)
    area = child(info, "area")
    child(area, "areaDesc", area_description(advisory.area))
    if advisory.area.circle is not None:
        circle = advisory.area.circle
        child(area, "circle", f"{circle.lat:.6f},{circle.lon:.6f} {circle.radius_km:g}")
    for country in advisory.area.countries:
        geocode = child(area, "geocode")
        child(geocode, "valueName", COUNTRY_GEOCODE)
        child(geocode, "value", country)
    return alert


def render_cap(advisory: AdvisoryV1, *, public_url: str, link: str) -> str:
    alert = alert_element(advisory, public_url=public_url, link=link)
    return ElementTree.tostring(alert, encoding="unicode", xml_declaration=True)
