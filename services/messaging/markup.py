"""Message bodies: plain text or a small Markdown subset, rendered to HTML that is safe to show anywhere.

Raw HTML in the source is shown as text (markdown-it with `html` off); the result is then cleaned by nh3 to
the tags below, links to http(s) and mailto only, each with rel="noopener noreferrer nofollow".
"""

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}

# Built once, as the renderer is: configuring nh3 at every call cost as much as the cleaning.
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow"
)
_RENDERER = MarkdownIt("zero", {"html": False, "linkify": False, "breaks": True}).enable(
    ["emphasis", "backticks", "fence", "blockquote", "list", "link", "newline", "escape", "autolink", "paragraph"]
)


def render(body: str) -> str:
    return _CLEANER.clean(_RENDERER.render(body)).strip()
