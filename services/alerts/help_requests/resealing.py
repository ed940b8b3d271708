"""Key rotation: what is still sealed with an older key of `ALERTS_DATA_KEYS` is sealed again with the newest, a
page of help requests per transaction (services/alerts/README.md: keys)."""

from collections.abc import Callable

from services.alerts.protection import Sealer

PAGE = 200


def reseal(*, unit_of_work: Callable, sealer: Sealer) -> int:
    """Seal again every value sealed with an older key; how many values were."""
    resealed, after = 0, None
    while True:
        with unit_of_work() as work:
            page = work.help_requests.sealed_after(after, PAGE)
            for help_request_id, values in page:
                older = {name: sealer.rotate(value) for name, value in values.items()
                         if sealer.sealed_with_an_older_key(value)}  # fmt: skip
                notes = {step_id: sealer.rotate(note)
                         for step_id, note in work.help_requests.sealed_notes(help_request_id).items()
                         if sealer.sealed_with_an_older_key(note)}  # fmt: skip
                work.help_requests.reseal(help_request_id, older, notes)
                resealed += len(older) + len(notes)
        if len(page) < PAGE:
            return resealed
        after = page[-1][0]
