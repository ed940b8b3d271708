"""Cell staff's second factor in the registry's database: the TOTP secret, the last step used, recovery codes.

Mixed into AccountRepository (the unit of work's `accounts`). Spending a code is one conditional UPDATE, so that
two sign-ins at once with the same code cannot both succeed.
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, insert, or_, update
from sqlalchemy.orm import Session

from services.registry.db import AccountRecord, RecoveryCodeRecord, SessionRecord


class SecondFactorQueries:
    session: Session

    def start_second_factor(self, account_id: UUID, secret: str) -> None:
        """A new secret, not yet confirmed: the account still signs in to enrol only."""
        self.session.execute(
            update(AccountRecord)
            .where(AccountRecord.id == account_id)
            .values(totp_secret=secret, totp_confirmed_at=None, totp_last_step=None)
        )

    def confirm_second_factor(self, account_id: UUID, step: int, now: datetime) -> None:
        self.session.execute(
            update(AccountRecord)
            .where(AccountRecord.id == account_id)
            .values(totp_confirmed_at=now, totp_last_step=step)
        )

    def claim_totp_step(self, account_id: UUID, step: int) -> bool:
        """True if `step` is later than every step accepted before (and is now the last one); False for a replay."""
        claimed = self.session.execute(
            update(AccountRecord)
            .where(
                AccountRecord.id == account_id,
                or_(AccountRecord.totp_last_step.is_(None), AccountRecord.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return claimed.rowcount == 1

    def replace_recovery_codes(self, account_id: UUID, code_hashes: list[str], now: datetime) -> None:
        """The new codes void every earlier one, used or not."""
        self.session.execute(delete(RecoveryCodeRecord).where(RecoveryCodeRecord.account_id == account_id))
        self.session.execute(
            insert(RecoveryCodeRecord),
            [{"code_hash": code_hash, "account_id": account_id, "created_at": now} for code_hash in code_hashes],
        )

    def spend_recovery_code(self, account_id: UUID, code_hash: str, now: datetime) -> bool:
        """True once per code: the first use marks it used."""
        spent = self.session.execute(
            update(RecoveryCodeRecord)
            .where(
                RecoveryCodeRecord.code_hash == code_hash,
                RecoveryCodeRecord.account_id == account_id,
                RecoveryCodeRecord.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return spent.rowcount == 1

    def reset_second_factor(self, account_id: UUID) -> None:
        """No secret and no recovery codes: the account enrols again at its next sign-in."""
        self.session.execute(
            update(AccountRecord)
            .where(AccountRecord.id == account_id)
            .values(totp_secret=None, totp_confirmed_at=None, totp_last_step=None)
        )
        self.session.execute(delete(RecoveryCodeRecord).where(RecoveryCodeRecord.account_id == account_id))

    def end_enrolment_only(self, token_hash: str) -> None:
        """The session that confirmed the second factor may now do everything its account may."""
        self.session.execute(
            update(SessionRecord).where(SessionRecord.token_hash == token_hash).values(must_enrol_second_factor=False)
        )
