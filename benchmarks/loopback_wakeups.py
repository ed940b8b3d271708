# What one message between two processes costs on this machine, apart from any of our code: two processes pass a
# small message back and forth over loopback TCP (as the gateway, RabbitMQ and the services do), first both on one
# core, then on different cores, and it prints the wall time and the CPU time (both processes) per round trip.
# On the 2-core Firecracker machines this project is measured on, a round trip across cores cost 54-77 µs of CPU
# and on one core 7 µs: waking a process on the other core is what costs. A one-RPC read through the gateway is
# about seven such messages (client → gateway → RabbitMQ → registry → RabbitMQ → gateway → client, and the
# registry's acknowledgement), which is why py-spy finds 20-30 % of the gateway's and the registry's samples in
# socket sends (benchmarks/read_path.py --profile). It asserts nothing.
#
#     python3 benchmarks/loopback_wakeups.py
#     python3 benchmarks/loopback_wakeups.py --round-trips 50000

import argparse
import os
import socket
import time

MESSAGE = b"x" * 90  # about an AMQP frame of a small RPC, or a short HTTP request


def connected_pair() -> tuple[socket.socket, socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    for end in (client, server):
        end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client, server


def receive(end: socket.socket) -> None:
    """One whole MESSAGE (TCP may hand it over in parts)."""
    remaining = len(MESSAGE)
    while remaining:
        remaining -= len(end.recv(remaining))


def round_trips(cores: tuple[int, int], count: int) -> tuple[float, float]:
    """Wall and CPU microseconds per round trip, the first process on cores[0], the echoing one on cores[1]."""
    client, server = connected_pair()
    echoing = os.fork()
    if echoing == 0:
        os.sched_setaffinity(0, {cores[1]})
        for _ in range(count):
            receive(server)
            server.sendall(MESSAGE)
        os._exit(0)
    os.sched_setaffinity(0, {cores[0]})
    started, before = time.perf_counter(), os.times()
    for _ in range(count):
        client.sendall(MESSAGE)
        receive(client)
    os.waitpid(echoing, 0)
    wall, after = time.perf_counter() - started, os.times()
    cpu = sum(after[:4]) - sum(before[:4])  # user and system time of this process and the echoing child
    client.close()
    server.close()
    return wall / count * 1e6, cpu / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description="The cost of a loopback message between processes, by core.")
    parser.add_argument("--round-trips", type=int, default=20_000)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    placements = {"one core": (cores[0], cores[0])}
    if len(cores) > 1:
        placements["two cores"] = (cores[0], cores[1])
    for name, placement in placements.items():
        wall, cpu = round_trips(placement, args.round_trips)
        print(f"{name:>9}: {wall:6.1f} µs wall, {cpu:6.1f} µs CPU (both processes) per round trip")
    print(f"[load average {' '.join(f'{value:.2f}' for value in os.getloadavg())}]")


if __name__ == "__main__":
    main()
