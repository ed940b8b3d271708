"""E-mails in the recipient's language (English or Mizo), with an unsubscribe link and List-Unsubscribe headers.

The Message-ID is the delivery's id: a repeat after a crash carries the same one, so a receiver can drop it.
"""

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid  # noqa: F401  (make_msgid: see message_id_of)
from html import escape

TEXTS = {
    "en": {
        "subject": "[DiasporaHub] {subject}",
        "intro": "A new {kind} for {association} from {sender}:",
        "inbox": "Read and answer it in your inbox: {url}",
        "footer": "You receive this e-mail because of {association}'s notification settings on DiasporaHub.",
        "settings": "Change them: {settings}",
        "unsubscribe": "Stop these e-mails with one click: {unsubscribe}",
        "kinds": {"message": "message", "broadcast": "announcement", "notification": "notification"},
        "digest": "[DiasporaHub] {count} new for {association}",
        "digest_intro": "What came for {association} on DiasporaHub since the last digest:",
    },
    "lus": {
        "subject": "[DiasporaHub] {subject}",
        "intro": "{association} tan {sender} hnen atangin {kind} thar a lo thleng:",
        "inbox": "I inbox-ah chhiar la, chhang rawh: {url}",
        "footer": "DiasporaHub-a {association} notification settings avangin he e-mail hi i dawng a ni.",
        "settings": "Thlak duh chuan: {settings}",
        "unsubscribe": "Heng e-mail hi tihtawp nan hei hi hmet rawh: {unsubscribe}",
        "kinds": {"message": "thuthawn", "broadcast": "hriattirna", "notification": "hriattirna"},
        "digest": "[DiasporaHub] {association} tan thil thar {count}",
        "digest_intro": "Digest hmasa atang khan DiasporaHub-ah {association} tan heng hi a lo thleng:",
    },
}


def message_id_of(delivery_id, domain: str = "diasporahub") -> str:
    return f"<{delivery_id}@{domain}>"


def compose(outgoing, *, sender_address: str, public_url: str) -> EmailMessage:
    texts = TEXTS.get(outgoing.language, TEXTS["en"])
    association_id = outgoing.recipient.partition(":")[2]
    fields = {
        "subject": outgoing.subject,
        "kind": texts["kinds"].get(outgoing.kind, outgoing.kind),
        "association": outgoing.association_name,
        "sender": outgoing.sender_name,
        "url": f"{public_url}/api/v1/inbox?association_id={association_id}",
        "settings": f"{public_url}/api/v1/associations/{association_id}/notification-settings",
        "unsubscribe": f"{public_url}/api/v1/unsubscribe/{outgoing.unsubscribe_key}",
    }
    lines = [texts[key].format(**fields) for key in ("intro",)]
    footer = [texts[key].format(**fields) for key in ("inbox", "footer", "settings", "unsubscribe")]
    email = EmailMessage()
    email["Subject"] = texts["subject"].format(**fields)
    email["From"] = sender_address
    email["To"] = outgoing.email
    email["Date"] = format_datetime(outgoing.posted_at)
    email["Message-ID"] = message_id_of(outgoing.delivery_id)
    email["List-Unsubscribe"] = f"<{fields['unsubscribe']}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["X-DiasporaHub-Delivery"] = str(outgoing.delivery_id)
    email.set_content("\n\n".join([*lines, outgoing.body, "--", *footer]) + "\n")
    html_footer = "".join(f"<p>{escape(line)}</p>" for line in footer[1:2]) + (
        f'<p><a href="{escape(fields["url"])}">{escape(fields["url"])}</a></p>'
        f'<p><a href="{escape(fields["settings"])}">{escape(texts["settings"].format(settings=""))}</a>'
        f' · <a href="{escape(fields["unsubscribe"])}">{escape(fields["unsubscribe"])}</a></p>'
    )
    email.add_alternative(
        f'<html lang="{outgoing.language}"><body><p>{escape(lines[0])}</p>{outgoing.html}<hr>'
        f"{html_footer}</body></html>",
        subtype="html",
    )
    email["Content-Language"] = outgoing.language  # after the content: setting it clears Content-* headers
    return email


def compose_digest(items: list, *, sender_address: str, public_url: str) -> EmailMessage:
    """Several deliveries to one association in one e-mail; its Message-ID is the first delivery's."""
    first = items[0]
    texts = TEXTS.get(first.language, TEXTS["en"])
    email = compose(first, sender_address=sender_address, public_url=public_url)
    fields = {"association": first.association_name, "count": len(items)}
    del email["Subject"]
    email["Subject"] = texts["digest"].format(**fields)
    parts = [texts["digest_intro"].format(**fields)]
    html = [f"<p>{escape(parts[0])}</p>"]
    for item in items:
        kind = texts["kinds"].get(item.kind, item.kind)
        parts.append(f"* {item.subject} ({kind}, {item.sender_name})\n\n{item.body}")
        html.append(f"<h3>{escape(item.subject)}</h3><p>{escape(kind)} · {escape(item.sender_name)}</p>{item.html}")
    plain, rich = email.get_payload()
    footer = plain.get_content().split("\n--\n", 1)[-1]
    plain.set_content("\n\n".join(parts) + "\n\n--\n" + footer)
    rich.set_content(f'<html lang="{first.language}"><body>{"".join(html)}<hr></body></html>', subtype="html")
    return email
