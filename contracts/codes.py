"""Country and language codes, checked against the ISO tables that pycountry ships."""

import pycountry


def country_code(value: str) -> str:
    """Return the ISO 3166-1 alpha-2 code for `value`, or raise ValueError."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code (such as IN, SG, US)")
    return code


def language_code(value: str) -> str:
    """Return the ISO 639-3 code for `value`; two-letter ISO 639-1 codes are translated."""
    code = value.strip().lower()
    language = None
    if len(code) == 3:
        language = pycountry.languages.get(alpha_3=code)
    elif len(code) == 2:
        language = pycountry.languages.get(alpha_2=code)
    if language is None:
        raise ValueError(f"'{value}' is not an ISO 639-3 language code (such as lus for Mizo, en for English)")
    return language.alpha_3
