"""The advisories in force as an Atom feed (RFC 4287), as public alert aggregators read it (OASIS "CAP feeds"
practice): each entry links its CAP alert (`rel="alternate"`, `application/cap+xml`) and carries it whole as
its content. Like the alert, the feed declares its namespace as the default, on unqualified names."""

from collections.abc import Callable
from datetime import UTC, datetime
from xml.etree import ElementTree

from contracts.advisories import AdvisoryV1
from services.alerts.advisories.cap import CAP_MEDIA_TYPE, alert_element, identifier
from services.alerts.advisories.domain import PUBLISHER

ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
FEED_TITLE = "DiasporaHub advisories"


def atom_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _child(parent: ElementTree.Element, name: str, text: str | None = None, **attributes) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, name, attributes)
    element.text = text
    return element


def _author(parent: ElementTree.Element) -> None:
    _child(_child(parent, "author"), "name", PUBLISHER)


def render_atom(
    advisories: list[AdvisoryV1], *, public_url: str, feed_url: str, link_of: Callable[[AdvisoryV1], str], now: datetime
) -> str:
    """`advisories` newest first; `link_of` gives an advisory's web address, its CAP alert is that plus `.cap`."""
    feed = ElementTree.Element("feed", xmlns=ATOM_NAMESPACE)
    _child(feed, "id", feed_url)
    _child(feed, "title", FEED_TITLE)
    _child(feed, "subtitle", f"Advisories for Mizos abroad from the {PUBLISHER}")
    _child(feed, "updated", atom_time(advisories[0].published_at if advisories else now))
    _child(feed, "link", rel="self", type=ATOM_MEDIA_TYPE, href=feed_url)
    _author(feed)
    for advisory in advisories:
        link = link_of(advisory)
        entry = _child(feed, "entry")
        _child(entry, "id", identifier(advisory))
        _child(entry, "title", advisory.headline)
        _child(entry, "updated", atom_time(advisory.published_at))
        _child(entry, "published", atom_time(advisory.published_at))
        _author(entry)
        _child(entry, "summary", advisory.description)
        _child(entry, "link", rel="alternate", type=CAP_MEDIA_TYPE, href=f"{link}.cap")
        _child(entry, "link", rel="related", type="application/json", href=link)
        content = _child(entry, "content", type=CAP_MEDIA_TYPE)
        content.append(alert_element(advisory, public_url=public_url, link=link))
    return ElementTree.tostring(feed, encoding="unicode", xml_declaration=True)
