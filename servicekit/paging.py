"""Reading a whole export page by page: the registry's `<records>_after(after_id, limit)` RPCs answer up to `limit`
records in id order after `after_id`, which the services and the command line page through to rebuild or verify
what they derive from the registry."""

from collections.abc import Callable, Iterator
from typing import Any


def pages_after(
    read_after: Callable[[str | None, int], list], parse: Callable[[Any], Any], *, key: Callable[[Any], Any], size: int
) -> Iterator[list]:
    """Each page's records parsed, until an empty page (a short one is not taken for the last: the registry caps
    `limit`); `key(record)` is the id the next page starts after."""
    after = None
    while page := [parse(item) for item in read_after(after, size)]:
        yield page
        after = str(key(page[-1]))
