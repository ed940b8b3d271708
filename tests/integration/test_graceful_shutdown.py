"""SIGTERM stops a service process gracefully: the work in flight finishes and is answered; work that outlasts the
grace period is killed and its request goes back to its queue, none of it half-done."""

import os
import signal
import subprocess
import sys
import time

import eventlet
from kombu import Connection

from servicekit.bus import rpc_queue
from servicekit.rpc import call_service
from servicekit.settings import BusSettings

SERVICE = "tests.integration.slow_service:SlowService"


def start_slow_service(amqp_uri: str, log_path, **settings: str) -> subprocess.Popen:
    env = os.environ | {"DIASPORAHUB_AMQP_URI": amqp_uri, **settings}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "servicekit.runner", SERVICE], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while b"started slow" not in log_path.read_bytes():
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "the slow service did not start"
        time.sleep(0.1)
    return process


def waiting_requests(amqp_uri: str) -> int:
    with Connection(amqp_uri) as connection:
        return rpc_queue("slow")(connection.default_channel).queue_declare(passive=True).message_count


def test_sigterm_lets_a_call_in_flight_finish_and_answer(rabbit_vhosts, tmp_path):
    amqp_uri = rabbit_vhosts.create()
    service = start_slow_service(amqp_uri, tmp_path / "slow.log")
    call = eventlet.spawn(call_service, BusSettings(amqp_uri=amqp_uri), "slow", "work", 2, timeout_seconds=20)
    eventlet.sleep(1)  # the call is being worked on
    stopped_at = time.monotonic()
    service.send_signal(signal.SIGTERM)

    assert call.wait() == "worked 2 s"
    assert service.wait(timeout=30) == 0
    print(f"\nstopped {time.monotonic() - stopped_at:.1f} s after SIGTERM, the call in flight answered")
    assert "stopped slow" in (tmp_path / "slow.log").read_text()
    assert waiting_requests(amqp_uri) == 0


def test_work_outlasting_the_grace_period_is_killed_and_its_request_goes_back_to_the_queue(rabbit_vhosts, tmp_path):
    amqp_uri = rabbit_vhosts.create()
    log_path = tmp_path / "slow.log"
    service = start_slow_service(amqp_uri, log_path, DIASPORAHUB_STOP_GRACE_SECONDS="1")
    call = eventlet.spawn(call_service, BusSettings(amqp_uri=amqp_uri), "slow", "work", 25, timeout_seconds=28)
    eventlet.sleep(1)
    stopped_at = time.monotonic()
    service.send_signal(signal.SIGTERM)

    service.wait(timeout=30)
    print(f"\nstopped {time.monotonic() - stopped_at:.1f} s after SIGTERM with a grace of 1 s")
    assert "the work in flight did not finish within 1 s; stopping at once" in log_path.read_text()
    assert waiting_requests(amqp_uri) == 1  # not acknowledged: another instance takes it
    call.kill()
