"""The association form: its fields to an `AssociationDraft` payload, and an association back to its fields.

Office-bearers and gathering places are numbered rows (`bearer_name_0`, `place_address_1`…); a row left empty
is no row. Languages are ticked from a short list or typed as codes (`lus, en`).
"""

from werkzeug.datastructures import MultiDict

from contracts.associations import CATEGORIES, AssociationDraft, AssociationV1
from gateway.pages.forms import listed, text_fields

TEXT_FIELDS = (
    "name",
    "description",
    "country",
    "city",
    "region",
    "address",
    "email",
    "phone",
    "website",
    "founded_year",
    "member_count",
)
LIST_FIELDS = ("alternate_names", "categories", "languages", "office_bearers", "gathering_places")
# ISO 639-3, as the registry stores languages (it turns `en` into `eng`).
COMMON_LANGUAGES = ("lus", "eng", "hin", "mya", "nep", "ara", "zho", "kor", "jpn", "tha", "msa", "fra", "deu")
BLANK_ROWS = 2
MAX_ROWS = 60


def numbered_rows(form: MultiDict, prefix: str, keys: tuple[str, ...]) -> list[dict[str, str]]:
    rows = []
    for index in range(MAX_ROWS):
        row = {key: form.get(f"{prefix}_{key}_{index}", "").strip() for key in keys}
        if any(row.values()):
            rows.append(row)
    return rows


def draft_payload(form: MultiDict) -> dict:
    """What the form says, in the shape of an AssociationDraft (checked by the contract, not here)."""
    return text_fields(form, TEXT_FIELDS) | {
        "alternate_names": listed(form.get("alternate_names", "")),
        "categories": form.getlist("categories"),
        "languages": list(dict.fromkeys(form.getlist("languages") + listed(form.get("other_languages", "")))),
        "office_bearers": numbered_rows(form, "bearer", ("name", "title")),
        "gathering_places": numbered_rows(form, "place", ("address", "schedule")),
    }


def changed_fields(draft: AssociationDraft, current: AssociationV1) -> dict:
    """Only what the form changed, so that an unchanged field is neither sent nor recorded in the history."""
    before = current.model_dump(mode="json")
    after = draft.model_dump(mode="json", include=set(TEXT_FIELDS) | set(LIST_FIELDS))
    return {field: value for field, value in after.items() if value != before.get(field)}


def form_context(values: dict) -> dict:
    """What the template needs besides the values: the choices, and room for new rows."""
    return {
        "values": values,
        "categories": CATEGORIES,
        "common_languages": COMMON_LANGUAGES,
        "other_languages": [code for code in values.get("languages", []) if code not in COMMON_LANGUAGES],
        "bearer_rows": values.get("office_bearers", []) + [{}] * BLANK_ROWS,
        "place_rows": values.get("gathering_places", []) + [{}] * BLANK_ROWS,
    }
