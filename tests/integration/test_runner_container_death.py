"""A service process whose container dies ends, with exit code 1, so that the supervisor (or systemd, Kubernetes)
starts it again: before, it lived on with nothing consuming, and after a RabbitMQ restart the registry and search
stayed unready for good."""

import os
import subprocess
import sys
import time
from contextlib import suppress

from contracts.errors import Unavailable
from servicekit.rpc import call_service
from servicekit.settings import BusSettings

SERVICE = "tests.integration.dying_service:DyingService"
# A test that hangs is a failure, not a wait: how long the process may take to end before the test says so.
HANG_GUARD_SECONDS = 30


def test_a_process_whose_container_dies_ends_with_exit_code_1(rabbit_vhosts, tmp_path):
    amqp_uri = rabbit_vhosts.create()
    log_path = tmp_path / "dying.log"
    env = os.environ | {"DIASPORAHUB_AMQP_URI": amqp_uri}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "servicekit.runner", SERVICE], stdout=log, stderr=subprocess.STDOUT, env=env
        )
    try:
        deadline = time.monotonic() + 60
        while b"started dying" not in log_path.read_bytes():
            assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)

        with suppress(Unavailable):  # the container may die before it answers
            call_service(BusSettings(amqp_uri=amqp_uri), "dying", "die", timeout_seconds=5)

        assert process.wait(timeout=HANG_GUARD_SECONDS) == 1
        assert "dying died" in log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
