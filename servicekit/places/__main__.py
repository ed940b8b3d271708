"""`python -m servicekit.places`: builds the gazetteer's index file if it is missing, and prints where it is.

Run by `make` after installing and by the container image's build; a service also runs it (in a child process)
when it opens the gazetteer and finds no index.
"""

import argparse
import sys
from pathlib import Path

from servicekit.places.index import IndexUnavailable, build, find_or_build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servicekit.places", description=__doc__)
    parser.add_argument("--path", type=Path, help="this file instead of the default location")
    parser.add_argument("--force", action="store_true", help="build it again even if it exists")
    args = parser.parse_args(argv)
    try:
        if args.path is not None and (args.force or not args.path.exists()):
            build(args.path)
        path = args.path or find_or_build(force=args.force, in_child=False)
    except IndexUnavailable as exc:
        print(f"servicekit.places: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
