"""Messaging's delivery sender in a process of its own: `python -m services.messaging.delivery.process`.

As a green thread of the messaging service it cost about 470 µs of CPU per post on the service's hub, and its rounds
of SMTP sends held up the posts arriving meanwhile. Here it shares nothing with the service but the database: the
deliveries are rows with leases (services/messaging/deliveries.py), so any number of these may run and each due
delivery is claimed by one. `diasporahub run`, compose and Kubernetes start it (`messaging-sender`, from the
catalogue's `sender`) and tell the service (`MESSAGING_DELIVERY_SENDER=process`) not to send as well.

SIGTERM or SIGINT: the round under way is sent and settled (for at most `DIASPORAHUB_STOP_GRACE_SECONDS`), then the
process ends; what a round cut short had claimed is sent by the next claim once its lease runs out.
"""

from servicekit.runtime import prepare_green_runtime

prepare_green_runtime()

import logging  # noqa: E402
import signal  # noqa: E402

import eventlet  # noqa: E402

from servicekit.event_metrics import serve_process_metrics  # noqa: E402
from servicekit.logs import configure_logging  # noqa: E402
from servicekit.runner import StopSettings  # noqa: E402
from services.messaging.delivery.sender import DeliveryRounds  # noqa: E402
from services.messaging.settings import MessagingSettings  # noqa: E402

PROCESS_NAME = "messaging-sender"


def main() -> None:
    configure_logging(PROCESS_NAME)
    serve_process_metrics(PROCESS_NAME)
    log = logging.getLogger(__name__)
    rounds = DeliveryRounds(MessagingSettings())
    stop_requested = eventlet.event.Event()

    def request_stop(_signum, _frame):
        if not stop_requested.ready():
            stop_requested.send(None)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    running = eventlet.spawn(rounds.run)
    # Rounds that end unasked (an error past the round's own handling) end the process, to be started again.
    running.link(lambda _thread: request_stop(None, None))
    log.info("sending messaging's deliveries")
    stop_requested.wait()
    rounds.stop()
    grace_seconds = StopSettings().stop_grace_seconds
    try:
        with eventlet.Timeout(grace_seconds):
            running.wait()
    except eventlet.Timeout:
        log.warning("the round under way did not end within %g s; its deliveries wait for their leases", grace_seconds)
        running.kill()
    rounds.close()
    log.info("stopped sending")


if __name__ == "__main__":
    main()
