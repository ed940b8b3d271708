"""Messaging's delivery sender: plans the deliveries of posted messages, claims the due ones, sends them (SMTP,
webhooks) and settles them, round after round.

It runs in a process of its own, `messaging-sender` (services/messaging/delivery/process.py), so that posts never
wait on the messaging service's hub behind a batch of SMTP sends; `diasporahub run`, compose and Kubernetes start it
and tell the service so (`MESSAGING_DELIVERY_SENDER=process`). Unset, the service runs it as a green thread of its
own process (the DeliverySender provider), as some tests do.

Each sender claims its own batch (services/messaging/deliveries.py leases the rows), so several may run side by
side; sends go out concurrently on a few green threads, one SMTP connection each.

How soon a notification goes out: in the service's process, `notify` and `broadcast` wake the sender at once. In a
process of its own nothing wakes it (as nothing wakes a relay process): it looks for due deliveries every
`MESSAGING_DELIVERY_POLL_SECONDS` (0.1 s), so an urgent notification is claimed at most that long after it was
committed, plus whatever is left of a round under way. A look is two indexed reads; planning and claiming, which take
the write lock, run only when they find something (benchmarks/alerts.py, quiet: every e-mail of a help request to
50 associations at the SMTP server p50 0.58 s, p99 0.63 s with a 0.5 s poll; p50 0.20 s, p99 0.29 s at 0.1 s).
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial

import eventlet
from nameko.extensions import DependencyProvider
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker

from servicekit.database import UnitOfWork, create_database_engine
from servicekit.sqltypes import utcnow
from services.messaging.db import Base
from services.messaging.deliveries import DeliveryRepository, any_due
from services.messaging.delivery import handlers
from services.messaging.delivery.templates import compose, compose_digest
from services.messaging.delivery.transports import FolderMailer, SmtpMailer, new_unsubscribe_key, post_webhook
from services.messaging.directory import DirectoryRepository
from services.messaging.idempotency import forget_old_keys
from services.messaging.idempotency_keys import IdempotencyKeyRepository
from services.messaging.moderation_repository import ModerationRepository
from services.messaging.planning import plan_posted_messages
from services.messaging.posting_repository import PostingRepository, any_unplanned
from services.messaging.repository import MessageRepository
from services.messaging.settings import SENDER_PROCESS, MessagingSettings, policy_of

log = logging.getLogger(__name__)
FORGET_KEYS_EVERY_SECONDS = 3600.0
# A round plans, claims and settles up to a batch (MESSAGING_DELIVERY_BATCH) in transactions of at most this many
# rows. SQLite's calls do not yield to other green threads, so one transaction holds the whole process, requests
# too, until it commits: claiming 200 e-mails took 40 ms of CPU, which every post under way then waited.
ROWS_PER_TRANSACTION = 50
REPOSITORIES = {
    "directory": DirectoryRepository,
    "messages": MessageRepository,
    "deliveries": DeliveryRepository,
    "idempotency": IdempotencyKeyRepository,
    "moderation": ModerationRepository,
    "posting": PostingRepository,
}


class DeliverySender(DependencyProvider):
    """Runs the DeliveryRounds in the service's process, unless a sender process runs them
    (`MESSAGING_DELIVERY_SENDER=process`); `wake()` then does nothing, the process polling instead."""

    def setup(self) -> None:
        settings = MessagingSettings()
        self.rounds = None if settings.delivery_sender == SENDER_PROCESS else DeliveryRounds(settings)

    def start(self) -> None:
        self.running = None
        if self.rounds is not None:
            self.running = self.container.spawn_managed_thread(self.rounds.run, identifier="delivery_sender")

    def stop(self) -> None:
        """After the round under way: closing the engine or the mailer under it would leave it stuck on a connection
        another green thread closed (the service's stop then never ended)."""
        if self.rounds is not None:
            self.rounds.stop()
            if self.running is not None:
                self.running.wait()
            self.rounds.close()

    def kill(self) -> None:
        if self.rounds is not None:
            self.rounds.stop()
            if self.running is not None:
                self.running.kill()
            self.rounds.close()

    def get_dependency(self, worker_ctx) -> "DeliverySender":
        return self

    def wake(self) -> None:
        if self.rounds is not None:
            self.rounds.wake()


class DeliveryRounds:
    def __init__(self, settings: MessagingSettings):
        self.settings = s = settings
        self.engine = create_database_engine(s.database_url)
        self.unit_of_work = partial(UnitOfWork, sessionmaker(self.engine, expire_on_commit=False), Base.metadata,
                                    repositories=REPOSITORIES)  # fmt: skip
        self.retrying = handlers.Retrying(
            base=timedelta(seconds=s.retry_base_seconds), cap=timedelta(seconds=s.retry_max_seconds),
            lease=timedelta(seconds=s.delivery_lease_seconds), batch=s.delivery_batch,
        )  # fmt: skip
        self.policy = policy_of(s)
        self.mailer = SmtpMailer(s) if s.smtp_host else FolderMailer(s.mail_folder)
        self._wake = threading.Event()
        self._stopping = False
        self._forget_keys_at = 0.0
        self._looking: Connection | None = None

    def stop(self) -> None:
        """`run()` returns once the round under way is settled (what it claimed and did not settle waits for its
        lease to run out, then goes to the next claim)."""
        self._stopping = True
        self._wake.set()

    def close(self) -> None:
        """Once `run()` has returned."""
        self.engine.dispose()
        if isinstance(self.mailer, SmtpMailer):
            self.mailer.close()

    def wake(self) -> None:
        self._wake.set()

    def run(self) -> None:
        try:
            while not self._stopping:
                self._wake.clear()
                planned = claimed = 0
                try:
                    if self._work_waiting():
                        planned = self._in_transactions(
                            partial(plan_posted_messages, unit_of_work=self.unit_of_work, policy=self.policy)
                        )
                        claimed = self.send_due()
                    self._forget_old_keys()
                except Exception:
                    log.exception("planning or sending deliveries failed; trying again")
                if planned < self.retrying.batch and claimed < self.retrying.batch:
                    self._wake.wait(self.settings.delivery_poll_seconds)
        finally:
            if self._looking is not None:
                # Not closed: a look cut short (the thread killed) may have left a statement under way on it.
                self._looking.invalidate()
                self._looking = None

    def _work_waiting(self) -> bool:
        """Two indexed reads on a connection kept for them: planning and claiming each take the write lock even when
        they find nothing, which every poll of an idle sender would make the service's posts wait for."""
        if self._looking is None:
            self._looking = self.engine.connect()
        try:
            return any_unplanned(self._looking) or any_due(self._looking, utcnow())
        except Exception:
            self._looking.invalidate()  # broken, perhaps: the next look opens another
            self._looking = None
            raise
        finally:
            if self._looking is not None:
                self._looking.rollback()  # no read snapshot held between looks: the log can be checkpointed

    def _forget_old_keys(self) -> None:
        """Once an hour, the Idempotency-Keys past their time (any process may: a second delete finds none)."""
        if time.monotonic() < self._forget_keys_at:
            return
        self._forget_keys_at = time.monotonic() + FORGET_KEYS_EVERY_SECONDS
        kept = timedelta(hours=self.settings.idempotency_key_hours)
        forgotten = forget_old_keys(unit_of_work=self.unit_of_work, now=utcnow(), kept=kept)
        if forgotten:
            log.info("forgot %d idempotency keys older than %s", forgotten, kept)

    def _in_transactions(self, step: Callable[..., int]) -> int:
        """`step(limit=…)` (how many rows it took) until a batch is done or a step finds fewer rows than it may
        take; other green threads run before each step."""
        done = 0
        while done < self.retrying.batch:
            limit = min(ROWS_PER_TRANSACTION, self.retrying.batch - done)
            eventlet.sleep(0)
            took = step(limit=limit)
            done += took
            if took < limit:
                break
        return done

    def send_due(self) -> int:
        started, now = time.monotonic(), utcnow()
        outgoing = []

        def claim(limit: int) -> int:
            claimed = handlers.claim(unit_of_work=self.unit_of_work, now=now, retrying=self.retrying, limit=limit,
                                     new_key=new_unsubscribe_key, cell_email=self.settings.cell_email)  # fmt: skip
            outgoing.extend(claimed)
            return len(claimed)

        if not self._in_transactions(claim):
            return 0
        claimed = time.monotonic()
        results = self._send(outgoing)
        sent_at = time.monotonic()
        sent = failed = 0
        for start in range(0, len(results), ROWS_PER_TRANSACTION):
            eventlet.sleep(0)
            part = results[start : start + ROWS_PER_TRANSACTION]
            settled = handlers.settle(unit_of_work=self.unit_of_work, now=utcnow(), retrying=self.retrying,
                                      results=part)  # fmt: skip
            sent, failed = sent + settled[0], failed + settled[1]
        log.info("deliveries: %d claimed (%.0f ms), %d sent (%.0f ms), %d failed for good (settled in %.0f ms)",
                 len(outgoing), (claimed - started) * 1000, sent, (sent_at - claimed) * 1000, failed,
                 (time.monotonic() - sent_at) * 1000)  # fmt: skip
        return len(outgoing)

    def _send(self, outgoing: list) -> list:
        s = self.settings
        hooks = [item for item in outgoing if item.channel == "webhook"]
        units: list[list] = []  # the deliveries that go out as one e-mail: one, or a recipient's digest
        digests: dict[str, list] = {}
        for item in outgoing:
            if item.channel == "email" and item.digest:
                digests.setdefault(item.recipient, []).append(item)
            elif item.channel == "email":
                units.append([item])
        units.extend(digests.values())
        lanes = max(1, min(s.delivery_concurrency, len(units)))
        chunks = [units[lane::lanes] for lane in range(lanes)]
        pool = eventlet.GreenPool(s.delivery_concurrency + len(hooks))
        email_results = pool.imap(self._send_emails, chunks)
        hook_results = pool.imap(self._post_webhook, hooks)
        results = []
        for chunk, errors in zip(chunks, email_results, strict=True):
            for unit, error in zip(chunk, errors, strict=True):
                results.extend((item, error) for item in unit)
        results.extend(zip(hooks, hook_results, strict=True))
        return results

    # Every send ends in a result, never in an exception: an exception would leave the whole batch unsettled, so
    # what did go out would be sent again once the lease ran out.

    def _post_webhook(self, item) -> str | None:
        try:
            return post_webhook(item, allow_private=self.settings.allow_private_webhooks,
                                timeout_seconds=self.settings.webhook_timeout_seconds)  # fmt: skip
        except Exception as exc:
            log.exception("the webhook of delivery %s failed unexpectedly", item.delivery_id)
            return f"webhook: {exc!r}"[:500]

    def _send_emails(self, units: list[list]) -> list:
        """One result per unit: None (sent) or why not."""
        composed, errors = [], {}
        options = {"sender_address": self.settings.sender_address, "public_url": self.settings.public_url}
        for index, unit in enumerate(units):
            if not unit[0].email:
                errors[index] = "email: the association has no e-mail address"
                continue
            try:
                composed.append(compose_digest(unit, **options) if len(unit) > 1 else compose(unit[0], **options))
            except Exception as exc:
                log.exception("the e-mail of delivery %s could not be composed", unit[0].delivery_id)
                errors[index] = f"email: could not be composed: {exc!r}"[:500]
        try:
            sent = iter(self.mailer.send_all(composed) if composed else [])
        except Exception as exc:  # some may have gone out: a repeat carries the same Message-ID
            log.exception("sending %d e-mails failed unexpectedly", len(composed))
            sent = iter([f"email: {exc!r}"[:500]] * len(composed))
        return [errors[index] if index in errors else next(sent) for index in range(len(units))]
