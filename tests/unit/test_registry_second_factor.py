"""The second factor's rules: which time step a code is, recovery codes and what is kept of them."""

from datetime import UTC, datetime, timedelta

import pyotp

from services.registry.accounts import second_factor

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 3, 1, 9, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def test_a_code_of_the_current_step_or_one_on_either_side_is_accepted_with_its_step():
    app = pyotp.TOTP(SECRET)
    current = app.timecode(NOW)

    assert second_factor.matching_step(SECRET, app.at(NOW), NOW) == current
    assert second_factor.matching_step(SECRET, app.at(NOW - STEP), NOW) == current - 1
    assert second_factor.matching_step(SECRET, app.at(NOW + STEP), NOW) == current + 1
    assert second_factor.matching_step(SECRET, app.at(NOW - 2 * STEP), NOW) is None


def test_a_code_typed_with_spaces_is_read_and_anything_but_six_digits_is_no_code():
    code = pyotp.TOTP(SECRET).at(NOW)

    assert second_factor.matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW) is not None
    for typed in ("12345", "1234567", "abcdef", "abcde-fghij"):
        assert second_factor.matching_step(SECRET, typed, NOW) is None


def test_recovery_codes_are_ten_different_codes_and_their_hash_ignores_case_spaces_and_dashes():
    codes = second_factor.new_recovery_codes()

    assert len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    assert all(set(code.replace("-", "")) <= set(second_factor.RECOVERY_CODE_ALPHABET) for code in codes)
    hashed = second_factor.recovery_code_hash(codes[0])
    assert second_factor.recovery_code_hash(codes[0].upper().replace("-", " ")) == hashed
    assert codes[0] not in hashed and len(hashed) == 64


def test_the_otpauth_uri_names_the_account_and_diasporahub():
    uri = second_factor.otpauth_uri(SECRET, "cell@mizoram.gov.in")

    assert uri == f"otpauth://totp/DiasporaHub:cell%40mizoram.gov.in?secret={SECRET}&issuer=DiasporaHub"
