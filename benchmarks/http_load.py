"""Clients hammering the gateway on kept-alive connections, for the benchmarks: latencies, rate, failures."""

import http.client
import statistics
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: str | None = None
    headers: dict | None = None


def percentile(latencies: list[float], percent: int) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[percent - 1]


def drive(port: int, calls: list[Call], clients: int, ok=(200, 201)) -> tuple[list[float], float, list[str]]:
    """Latencies (ms) of every call, calls per second, and what failed, with `clients` clients sharing `calls`."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    pending = iter(calls)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while True:
            with lock:
                call = next(pending, None)
            if call is None:
                break
            started = time.perf_counter()
            connection.request(call.method, call.path, body=call.body, headers=call.headers or {})
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status not in ok:
                failures.append(f"HTTP {response.status} for {call.method} {call.path}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, len(calls) / (time.perf_counter() - started), failures
