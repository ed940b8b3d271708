"""Clients hammering the gateway on kept-alive connections, for the benchmarks: latencies, rate, failures.

`drive` runs the clients as threads of the benchmark's own process, whose GIL and CPU are shared with the
machine's other work: on 2 cores they take a part of what they measure. `drive_with_wrk` runs them in wrk (C), where
they cost little CPU and wait for no interpreter: every benchmark that loads the gateway over HTTP runs wrk through it.
"""

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
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


@dataclass(frozen=True)
class WrkRun:
    requests: int
    rate: float
    p50: float
    p99: float
    failures: int  # answers other than 2xx or 3xx, and socket errors


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    if "]==]" in text:
        raise ValueError(f"cannot quote {text!r} for Lua")
    return f"[==[{text}]==]"


def _wrk_script(calls: list[Call]) -> str:
    """wrk thread number n repeats `calls[n % len(calls)]` on each of its connections."""
    entries = []
    for call in calls:
        headers = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in (call.headers or {}).items())
        body = _lua_string(call.body) if call.body is not None else "nil"
        entries.append(f"  {{{_lua_string(call.method)}, {_lua_string(call.path)}, {{{headers}}}, {body}}},")
    return "\n".join([
        "local calls = {", *entries, "}",
        "local threads = 0",
        "function setup(thread) thread:set('client', threads); threads = threads + 1 end",
        "function init(args)",
        "  local call = calls[client % #calls + 1]",
        "  request_bytes = wrk.format(call[1], call[2], call[3], call[4])",
        "end",
        "function request() return request_bytes end",
        "function done(summary, latency, requests)",
        "  local e = summary.errors",
        "  io.write(string.format('{\"requests\": %d, \"seconds\": %f, \"p50_us\": %f, \"p99_us\": %f, '",
        "    .. '\"failures\": %d}\\n', summary.requests, summary.duration / 1e6, latency:percentile(50),",
        "    latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))",
        "end",
    ])  # fmt: skip


def drive_with_wrk(
    base_url: str, calls: list[Call], clients: int, seconds: float, *, threads: int | None = None
) -> WrkRun:
    """`clients` wrk connections for `seconds`, spread over `threads` wrk threads (one per client unless given);
    thread n's connections repeat `calls[n % len(calls)]`, kept alive."""
    threads = threads or clients
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_wrk_script(calls))
        script.flush()
        finished = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s", "-s", script.name,
             base_url],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    summary = json.loads(finished.stdout.strip().splitlines()[-1])
    return WrkRun(
        requests=summary["requests"],
        rate=summary["requests"] / summary["seconds"],
        p50=summary["p50_us"] / 1000,
        p99=summary["p99_us"] / 1000,
        failures=summary["failures"],
    )
