"""Gzip for the pages and their static files, when the browser accepts it and the body is large enough to gain.

A directory page is about 33 KB of HTML (two lists of every country) and shrinks to about 6 KB: on a slow phone
connection that is seconds, and gzip's fastest level costs a fifth of a millisecond. A page under one TCP packet
is sent as it is. Static files are compressed once, at the strongest level, and kept.
"""

import gzip
import mimetypes
from functools import lru_cache
from pathlib import Path

from werkzeug.wrappers import Request, Response

WORTH_COMPRESSING_BYTES = 1400
PAGE_LEVEL = 1  # per request: the fastest level keeps about 90 % of the best level's saving
COMPRESSIBLE_TYPES = ("text/", "image/svg+xml", "application/javascript", "application/json")


def accepts_gzip(request: Request) -> bool:
    header = request.environ.get("HTTP_ACCEPT_ENCODING", "")  # werkzeug's headers raise and catch when it is missing
    if "gzip" not in header:
        return False
    # Only a header with quality values (`gzip;q=0`) needs werkzeug's parser, a noticeable part of a page's cost.
    return ";" not in header or request.accept_encodings["gzip"] > 0


def compress_page(request: Request, response: Response) -> Response:
    """The response's body gzipped when the browser accepts it and it is worth it; it varies by Accept-Encoding."""
    response.vary.add("Accept-Encoding")
    body = response.get_data()
    if len(body) >= WORTH_COMPRESSING_BYTES and accepts_gzip(request):
        response.set_data(gzip.compress(body, compresslevel=PAGE_LEVEL, mtime=0))
        response.content_encoding = "gzip"
    return response


@lru_cache(maxsize=64)
def static_file(path: Path) -> tuple[bytes, bytes | None, str]:
    """A static file's bytes, their gzip (None when not worth it) and its type, read once: the files of a running
    gateway do not change (the install step writes them)."""
    body = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    compressible = len(body) >= WORTH_COMPRESSING_BYTES and mimetype.startswith(COMPRESSIBLE_TYPES)
    return body, gzip.compress(body, compresslevel=9, mtime=0) if compressible else None, mimetype


def static_response(request: Request, path: Path) -> Response:
    body, gzipped, mimetype = static_file(path)
    response = Response(body, mimetype=mimetype)
    if gzipped is not None:
        response.vary.add("Accept-Encoding")
        if accepts_gzip(request):
            response.set_data(gzipped)
            response.content_encoding = "gzip"
    return response
