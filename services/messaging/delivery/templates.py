"""E-mails in the recipient's language (English or Mizo), with an unsubscribe link and List-Unsubscribe headers.

The Message-ID is the delivery's id: a repeat after a crash carries the same one, so a receiver can drop it.
Written as MIME bytes here (two base64 UTF-8 parts, multipart/alternative): Python's `email` package parses and
folds every header, which made 1,000 e-mails take tens of seconds of CPU.
"""

import base64
from dataclasses import dataclass
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from html import escape

# The Mizo wording follows services/messaging/GLOSSARY.md (shared with the web pages' catalogue).
TEXTS = {
    "en": {
        "subject": "[DiasporaHub] {subject}",
        "intro": "A new {kind} for {association} from {sender}:",
        "inbox": "Read and answer it in your inbox: {url}",
        "footer": "You receive this e-mail because of {association}'s notification settings on DiasporaHub.",
        "member_footer": "You receive this e-mail because you chose, in your notification settings on DiasporaHub,"
        " to hear by e-mail what your associations send their members.",
        "cell_footer": "You receive this e-mail as the duty mailbox of the Mizo Diaspora Cell on DiasporaHub.",
        "settings": "Change them: {settings}",
        "unsubscribe": "Stop these e-mails with one click: {unsubscribe}",
        "kinds": {"message": "message", "broadcast": "announcement", "notification": "notification"},
        "digest": "[DiasporaHub] {count} new for {association}",
        "digest_intro": "What came for {association} on DiasporaHub since the last digest:",
    },
    "lus": {
        "subject": "[DiasporaHub] {subject}",
        "intro": "{sender} atangin {association} tan {kind} thar a lo thleng:",
        "inbox": "I inbox-ah i chhiar thei a, i chhang thei bawk: {url}",
        "footer": "DiasporaHub-a {association} tana hriattirna dawn dan thlan angin he e-mail hi i dawng a ni.",
        "member_footer": "DiasporaHub-a hriattirna dawn dan i thlan angin, i pawl-te'n an member-te hnena an thawn"
        " hi e-mail-in i dawng a ni.",
        "settings": "Thlak i duh chuan: {settings}",
        "unsubscribe": "Heng e-mail-te hi i dawng duh tawh lo a nih chuan hei hi hmet rawh: {unsubscribe}",
        "kinds": {"message": "thuthawn", "broadcast": "thupuan", "notification": "hriattirna"},
        "digest": "[DiasporaHub] {association} tan thil thar {count}",
        "digest_intro": "Khaikhawmna hmasa a chhuah hnu khan DiasporaHub-ah {association} tan heng hi a lo thleng:",
    },
}


BASE64_LINE = 76  # RFC 2045's longest encoded line


@lru_cache(maxsize=8)
def address_of(sender: str) -> str:
    """The address in `Name <address>`: the configured sender's, parsed once (parseaddr took half of an e-mail's
    composing)."""
    return parseaddr(sender)[1]


def message_id_of(delivery_id, domain: str = "diasporahub") -> str:
    return f"<{delivery_id}@{domain}>"


@dataclass(frozen=True)
class RawEmail:
    delivery_id: object
    sender: str
    recipient: str
    data: bytes


def _header(value: str) -> str:
    """RFC 2047 encoded words for text that is not ASCII, each at most 75 characters."""
    if value.isascii():
        return " ".join(value.split())
    words, word = [], b""
    for char in value:
        piece = char.encode()
        if len(base64.b64encode(word + piece)) > 45:
            words.append(word)
            word = b""
        word += piece
    words.append(word)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode()}?=" for word in words)


def _part(content_type: str, text: str) -> str:
    encoded = base64.b64encode(text.encode()).decode()
    # Lines of 76 characters cut by slicing: textwrap.wrap looks for spaces first, 0.18 ms per part of a short e-mail.
    lines = (encoded[start : start + BASE64_LINE] for start in range(0, len(encoded), BASE64_LINE))
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + "\r\n".join(lines)
        + "\r\n"
    )


def _fields(outgoing, texts: dict, public_url: str) -> dict:
    """A member's links are to their own inbox and settings; an association's to its. The Cell's mailbox is set by
    the deployment (`MESSAGING_CELL_EMAIL`): no settings or unsubscribe link, its inbox is Cell staff's own."""
    kind, _, party_id = outgoing.recipient.partition(":")
    if kind == "cell":
        inbox = f"{public_url}/api/v1/inbox"
        return {"subject": outgoing.subject, "kind": texts["kinds"].get(outgoing.kind, outgoing.kind),
                "association": outgoing.recipient_name, "sender": outgoing.sender_name, "url": inbox,
                "settings": None, "unsubscribe": None, "footer": texts["cell_footer"]}  # fmt: skip
    member = kind == "individual"
    return {
        "subject": outgoing.subject,
        "kind": texts["kinds"].get(outgoing.kind, outgoing.kind),
        "association": outgoing.recipient_name,
        "sender": outgoing.sender_name,
        "url": f"{public_url}/api/v1/inbox" + ("" if member else f"?association_id={party_id}"),
        "settings": f"{public_url}/api/v1/"
        + ("me/notification-settings" if member else f"associations/{party_id}/notification-settings"),
        "unsubscribe": f"{public_url}/api/v1/unsubscribe/{outgoing.unsubscribe_key}",
        "footer": texts["member_footer" if member else "footer"],
    }


def _build(outgoing, *, subject: str, intro: str, plain: str, html: str, texts: dict, fields: dict, sender_address):
    choosable = fields["unsubscribe"] is not None
    lines = (texts["inbox"], fields["footer"]) + ((texts["settings"], texts["unsubscribe"]) if choosable else ())
    footer = [text.format(**fields) for text in lines]
    html_footer = f'<p>{escape(footer[1])}</p><p><a href="{escape(fields["url"])}">{escape(fields["url"])}</a></p>'
    if choosable:
        html_footer += (
            f'<p><a href="{escape(fields["settings"])}">{escape(texts["settings"].format(settings=""))}</a>'
            f' · <a href="{escape(fields["unsubscribe"])}">{escape(fields["unsubscribe"])}</a></p>'
        )
    boundary = f"=_diasporahub_{outgoing.delivery_id}"
    headers = [
        ("Subject", _header(subject)),
        ("From", _header(sender_address) if sender_address.isascii() else address_of(sender_address)),
        ("To", outgoing.email),
        ("Date", format_datetime(outgoing.posted_at)),
        ("Message-ID", message_id_of(outgoing.delivery_id)),
        ("MIME-Version", "1.0"),
        ("Content-Language", outgoing.language),
        *(
            [
                ("List-Unsubscribe", f"<{fields['unsubscribe']}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ]
            if choosable
            else []
        ),
        ("X-DiasporaHub-Delivery", str(outgoing.delivery_id)),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    plain_part = _part("text/plain", "\n\n".join([intro, plain, "--", *footer]) + "\n")
    html_part = _part(
        "text/html",
        f'<html lang="{outgoing.language}"><body><p>{escape(intro)}</p>{html}<hr>{html_footer}</body></html>',
    )
    text = (
        "".join(f"{name}: {value}\r\n" for name, value in headers)
        + f"\r\n--{boundary}\r\n{plain_part}--{boundary}\r\n{html_part}--{boundary}--\r\n"
    )
    return RawEmail(outgoing.delivery_id, address_of(sender_address), outgoing.email, text.encode("ascii"))


def compose(outgoing, *, sender_address: str, public_url: str) -> RawEmail:
    texts = TEXTS.get(outgoing.language, TEXTS["en"])
    fields = _fields(outgoing, texts, public_url)
    return _build(
        outgoing, subject=texts["subject"].format(**fields), intro=texts["intro"].format(**fields),
        plain=outgoing.body, html=outgoing.html, texts=texts, fields=fields, sender_address=sender_address,
    )  # fmt: skip


def compose_digest(items: list, *, sender_address: str, public_url: str) -> RawEmail:
    """Several deliveries to one association in one e-mail; its Message-ID is the first delivery's."""
    first = items[0]
    texts = TEXTS.get(first.language, TEXTS["en"])
    fields = _fields(first, texts, public_url) | {"count": len(items)}
    plain, html = [], []
    for item in items:
        kind = texts["kinds"].get(item.kind, item.kind)
        plain.append(f"* {item.subject} ({kind}, {item.sender_name})\n\n{item.body}")
        html.append(f"<h3>{escape(item.subject)}</h3><p>{escape(kind)} · {escape(item.sender_name)}</p>{item.html}")
    return _build(
        first, subject=texts["digest"].format(**fields), intro=texts["digest_intro"].format(**fields),
        plain="\n\n".join(plain), html="".join(html), texts=texts, fields=fields, sender_address=sender_address,
    )  # fmt: skip
