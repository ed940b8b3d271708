"""The `diasporahub` command: parses arguments and dispatches; `run` supervises the processes.

Each command imports what it needs when it runs: `diasporahub run` stays a small process that imports no
service, bus or database library (its children do the work). Every other command is monkey-patched for
eventlet first, as the services are.
"""

import argparse
import sys

START_RABBITMQ = "start it with `rabbitmq-server -detached` (Debian: `apt-get install rabbitmq-server`)"


def prepare() -> int:
    """Check RabbitMQ, make the services' broker users (if they have their own URIs), declare the bus topology,
    migrate every database of the catalogue."""
    from kombu import Connection

    from diasporahub.broker import BrokerUsersFailed, Management, ensure_service_users, service_users
    from servicekit.bus import BrokerUnreachable, check_broker, declare_rpc_queues, declare_topology
    from servicekit.migrations import upgrade
    from servicekit.settings import BusSettings
    from services.catalogue import pinged_names, with_databases

    bus = BusSettings()
    try:
        users = service_users(bus)
    except BrokerUsersFailed as exc:
        print(f"diasporahub: {exc}", file=sys.stderr)
        return 2
    try:
        check_broker(bus.amqp_uri)
    except BrokerUnreachable as exc:
        print(f"diasporahub: {exc}; {START_RABBITMQ}, or set DIASPORAHUB_AMQP_URI.", file=sys.stderr)
        return 2
    if users:
        try:
            ensure_service_users(Management.of(bus), users)
        except BrokerUsersFailed as exc:
            print(f"diasporahub: {exc}", file=sys.stderr)
            return 2
    with Connection(bus.amqp_uri, ssl=bus.ssl_options()) as connection:
        declare_topology(connection)
        declare_rpc_queues(connection, pinged_names())
    for entry in with_databases():
        upgrade(entry.migrations, entry.database_url())
    return 0


def run(listen: str) -> int:
    import os
    import signal
    from pathlib import Path

    from diasporahub.supervisor import Supervisor
    from diasporahub.system import StartFailed, System
    from services.catalogue import gateway_processes

    try:
        gateways = gateway_processes(os.environ)
    except ValueError as exc:
        print(f"diasporahub: {exc}", file=sys.stderr)
        return 2
    system = System(listen=listen, log_dir=Path("var/log"), gateway_processes=gateways)
    stopping = False

    def request_stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        system.prepare()
        system.start_all()
    except StartFailed as exc:
        print(f"diasporahub: {exc}", file=sys.stderr)
        system.stop_all()
        return 1
    print(f"DiasporaHub is running at {system.url} (logs in var/log/). Press Ctrl-C to stop.")
    # By the names the supervisor's messages and the log files use: gateway, gateway-2… share the address.
    print("Processes: " + ", ".join(f"{name} (pid {process.pid})" for name, process in system.processes.items()))
    sys.stdout.flush()
    # A process that dies is started again (with backoff); one that keeps dying stops everything.
    if Supervisor(system).run(stopping=lambda: stopping) != 0:
        return 1
    print("DiasporaHub stopped.")
    return 0


def _parser() -> argparse.ArgumentParser:
    from diasporahub import bulk

    parser = argparse.ArgumentParser(prog="diasporahub", description="Run and look after DiasporaHub.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_command = commands.add_parser("run", help="prepare, then start every service and the HTTP gateway")
    run_command.add_argument(
        "--listen",
        default="127.0.0.1:8000",
        help="address of the HTTP gateway, shared by its GATEWAY_PROCESSES processes (unset: one per core, at most 4)",
    )
    commands.add_parser("prepare", help="check RabbitMQ, declare the bus topology, migrate the databases")
    bulk.add_commands(commands)
    administration = commands.add_parser("admin", help="accounts of the Mizo Diaspora Cell (admin create --email …)")
    administration.add_argument("admin_arguments", nargs=argparse.REMAINDER)
    searching = commands.add_parser("search", help="the search index against the registry (reindex, verify)")
    searching.add_argument("search_arguments", nargs=argparse.REMAINDER)
    broker = commands.add_parser("broker", help="give every service its own RabbitMQ user (broker users)")
    broker.add_argument("broker_arguments", nargs=argparse.REMAINDER)
    messaging = commands.add_parser(
        "messaging", help="messaging's copy of the directory against the registry (rebuild-directory, verify-directory)"
    )
    messaging.add_argument("messaging_action", choices=["rebuild-directory", "verify-directory"])
    alerts = commands.add_parser("alerts", help="where people live, for advisories (alerts rebuild-people)")
    alerts.add_argument("alerts_action", choices=["rebuild-people"])
    dead = commands.add_parser("dead-letters", help="count dead-lettered events, or replay a queue's (replay QUEUE)")
    dead.add_argument("dead_letter_arguments", nargs=argparse.REMAINDER)
    for action, told in (("backup", "copy every service's database into DIR"), ("restore", "put them back from DIR")):
        commands.add_parser(action, help=told).add_argument("folder", metavar="DIR")
    verify = commands.add_parser("verify", help="search's index and messaging's directory against the registry")
    verify.add_argument("--repair", action="store_true", help="and put every difference right")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run(args.listen)

    from servicekit.runtime import prepare_green_runtime

    prepare_green_runtime()
    if args.command == "admin":
        from diasporahub import admin

        return admin.main(args.admin_arguments)
    if args.command == "search":
        from servicekit.settings import act_as_service
        from services.search import maintenance

        # It calls the registry as the search service does (the registry gives its pages to search only).
        act_as_service("search")

        return maintenance.main(args.search_arguments)
    if args.command == "broker":
        from diasporahub import broker

        return broker.main(args.broker_arguments)
    if args.command == "messaging":
        from diasporahub import messaging

        if args.messaging_action == "rebuild-directory":
            return messaging.rebuild_directory()
        from servicekit.settings import act_as_service

        # It reads the registry's associations as messaging's rebuild does (the registry gives them to it).
        act_as_service("messaging")
        return messaging.verify_directory()
    if args.command == "alerts":
        from diasporahub import alerts

        return alerts.rebuild_people()
    if args.command in {"backup", "restore", "verify"}:
        from diasporahub import backup

        return backup.main(args.command, getattr(args, "folder", None), repair=getattr(args, "repair", False))
    if args.command == "dead-letters":
        from diasporahub import dead_letters

        return dead_letters.main(args.dead_letter_arguments)
    if args.command in {"import", "export"}:
        from diasporahub import bulk

        return bulk.run(args)
    return prepare()


if __name__ == "__main__":
    sys.exit(main())
