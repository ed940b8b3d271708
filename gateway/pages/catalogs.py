"""The pages' message catalogs: `extract` gathers the English texts, `compile` makes the .mo files pages read.

    python -m gateway.pages.catalogs extract   # templates and pages → locale/messages.pot, merged into each .po
    python -m gateway.pages.catalogs compile   # each locale/<language>/LC_MESSAGES/messages.po → .mo (install step)

Babel's own command refuses a language it has no locale data for, as Mizo (`lus`); these read and write the
catalogs with Babel's functions and no locale data.
"""

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

GATEWAY = Path(__file__).resolve().parent.parent
LOCALE_FOLDER = GATEWAY / "locale"
TEMPLATE = LOCALE_FOLDER / "messages.pot"
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("pages/**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}}


def catalog_files() -> list[Path]:
    return sorted(LOCALE_FOLDER.glob("*/LC_MESSAGES/messages.po"))


def extract() -> Catalog:
    catalog = Catalog(project="DiasporaHub", msgid_bugs_address="", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(GATEWAY, METHODS, OPTIONS):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update() -> None:
    template = extract()
    with TEMPLATE.open("wb") as out:
        write_po(out, template, omit_header=True, no_location=True, sort_output=True)
    for path in catalog_files():
        with path.open("rb") as source:
            catalog = read_po(source)
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created  # only a change of texts shows in the diff
        with path.open("wb") as out:
            write_po(out, catalog, no_location=True, sort_output=True, ignore_obsolete=True, width=120)


def compile_all() -> list[Path]:
    compiled = []
    for path in catalog_files():
        with path.open("rb") as source:
            catalog = read_po(source)
        target = path.with_suffix(".mo")
        with target.open("wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        compiled.append(target)
    return compiled


def main(argv: list[str]) -> int:
    if argv == ["extract"]:
        update()
    elif argv == ["compile"]:
        for target in compile_all():
            print(f"compiled {target.relative_to(GATEWAY)}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
