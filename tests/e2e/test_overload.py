"""Past capacity the gateway answers 503 with Retry-After at once instead of letting requests wait for their
timeout; the answered requests stay fast and the gateway's memory does not grow. Figures are printed, not asserted."""

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.e2e.running import running_system

CAPACITY = 6  # GATEWAY_MAX_REQUESTS_IN_FLIGHT for this test
CLIENTS = CAPACITY * 6
REQUESTS_PER_CLIENT = 40
MEMORY_GROWTH_BOUND_KIB = 150 * 1024


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


@pytest.fixture(scope="module")
def system(rabbit_vhosts, tmp_path_factory):
    home = tmp_path_factory.mktemp("overload")
    with running_system(rabbit_vhosts, home, {"GATEWAY_MAX_REQUESTS_IN_FLIGHT": str(CAPACITY)}) as running:
        yield running


def hammer(url: str) -> list[tuple[int, float, requests.Response]]:
    answers = []
    with requests.Session() as session:
        for number in range(REQUESTS_PER_CLIENT):
            started = time.monotonic()
            answer = session.get(f"{url}/api/v1/search/associations", params={"q": f"mizo {number}"}, timeout=30)
            answers.append((answer.status_code, time.monotonic() - started, answer))
    return answers


def percentile(values: list[float], share: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * share))] if values else 0.0


def test_past_capacity_the_gateway_answers_503_with_retry_after_at_once(system):
    gateway_pid = system.processes["gateway"].pid
    hammer(system.url)  # warm up: connections, caches, the first allocations
    memory_before = resident_kib(gateway_pid)

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [answer for client in pool.map(hammer, [system.url] * CLIENTS) for answer in client]
    memory_after = resident_kib(gateway_pid)

    statuses = {status for status, _, _ in answers}
    served = [seconds for status, seconds, _ in answers if status == 200]
    refused = [(seconds, answer) for status, seconds, answer in answers if status == 503]
    print(
        f"\n{len(answers)} requests from {CLIENTS} clients at capacity {CAPACITY}: {len(served)} answered 200 "
        f"(median {statistics.median(served) * 1000:.0f} ms, p99 {percentile(served, 0.99) * 1000:.0f} ms, "
        f"max {max(served) * 1000:.0f} ms), {len(refused)} refused 503 "
        f"(p99 {percentile([s for s, _ in refused], 0.99) * 1000:.0f} ms, "
        f"max {max((s for s, _ in refused), default=0) * 1000:.0f} ms); "
        f"gateway memory {memory_before // 1024} MiB before, {memory_after // 1024} MiB after"
    )
    assert statuses <= {200, 503}, statuses
    assert served and refused
    for _, answer in refused:
        assert answer.headers["Retry-After"] == "1"
        assert answer.json() == {
            "error": "unavailable",
            "message": "The server is too busy to take this request; try again in a moment.",
        }
    assert memory_after - memory_before < MEMORY_GROWTH_BOUND_KIB
    assert requests.get(f"{system.url}/healthz", timeout=5).status_code == 200
