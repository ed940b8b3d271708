"""The chaos suite's load: a few clients doing what people do, through the gateway, each answer recorded.

Every write carries a name or text of its own (a uuid), so that afterwards each accepted one can be looked for
and counted: it must be there once.

A request whose connection fails is asked again on a new connection only when that cannot double a write: a read
(GET) whatever happened, a write only when its connection was never made (nothing was sent). A write whose
connection broke after it was sent (a gateway process killed while it was in flight, or while the connection
waited in that process's accept queue) may or may not have been done: it is recorded as 'no answer' and not asked
again; if it was done, it must be there once, as any write."""

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from tests.e2e.conftest import Person

HELP_COUNTRY, HELP_CITY = "KW", "Kuwait City"
ATTEMPTS_AFTER_A_BROKEN_CONNECTION = 3
RETRY_DELAY_SECONDS = 0.25  # times the attempts made: a refused connection is refused again at once


@dataclass(frozen=True)
class Answer:
    fault: str
    operation: str
    status: int  # 0: no HTTP answer (connection refused or reset, client timeout)
    seconds: float
    key: str  # what was written: a name, an e-mail address, a message's text, a help request's id
    body: dict = field(default_factory=dict, compare=False)
    retry_after: str | None = None

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Stage:
    """What the load works with: a secretary with associations, a conversation, helpers near the help city (the
    only associations in its country, so the Cell's broadcasts to that country reach exactly them)."""

    api: str
    cell: Person
    secretary: Person
    conversation_path: str
    poster: Person  # an admin of one of the conversation's associations
    helpers: list[tuple[Person, str]]
    own_associations: list[str] = field(default_factory=list)


class Load:
    """Clients that each loop over the operations until stopped; every answer goes to `answers`."""

    def __init__(self, stage: Stage, clients: int):
        self.stage = stage
        self.clients = clients
        self.answers: list[Answer] = []
        self.asked_again: list[tuple[str, str]] = []  # (fault, operation) of each request asked again
        self.fault = "none"
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, fault: str) -> None:
        self.fault = fault
        self._stopping.clear()
        self._threads = [threading.Thread(target=self._client, args=(seed,)) for seed in range(self.clients)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join()

    def _client(self, seed: int) -> None:
        chooser = random.Random(seed)
        operations = [self.sign_up, self.register, self.edit, self.post_message, self.raise_and_claim_help,
                      self.broadcast, self.search]  # fmt: skip
        while not self._stopping.is_set():
            chooser.choice(operations)()

    def _send(self, operation: str, key: str, method: str, path: str, person: Person | None = None, **kwargs):
        headers = (person.headers if person else {}) | kwargs.pop("headers", {})
        started = time.monotonic()
        try:
            response = self._request(operation, method, f"{self.stage.api}{path}", headers=headers, **kwargs)
        except requests.RequestException:
            answer = Answer(self.fault, operation, 0, time.monotonic() - started, key)
        else:
            body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
            answer = Answer(
                self.fault, operation, response.status_code, time.monotonic() - started, key,
                body if isinstance(body, dict) else {}, response.headers.get("Retry-After"),
            )  # fmt: skip
        with self._lock:
            self.answers.append(answer)
        return answer

    def _request(self, operation: str, method: str, url: str, **kwargs) -> requests.Response:
        """One request, each on a connection of its own (the kernel then chooses a gateway process for each), asked
        again on a new one after a broken connection only when that cannot double a write."""
        attempts = 1
        while True:
            try:
                return requests.request(method, url, timeout=15, **kwargs)
            except requests.ConnectionError as exc:
                if attempts == ATTEMPTS_AFTER_A_BROKEN_CONNECTION or not (method == "GET" or never_sent(exc)):
                    raise
            time.sleep(RETRY_DELAY_SECONDS * attempts)
            attempts += 1
            with self._lock:
                self.asked_again.append((self.fault, operation))

    def sign_up(self) -> None:
        email = f"chaos-{uuid.uuid4().hex[:12]}@example.org"
        body = {"email": email, "password": "correct horse battery staple", "display_name": "Chaos"}
        self._send("sign up", email, "POST", "/api/v1/auth/signup", json=body)

    def register(self) -> None:
        name = f"Chaos Fellowship {uuid.uuid4().hex[:12]}"
        body = {"name": name, "country": "AE", "city": "Dubai", "languages": ["lus"], "email": "chaos@example.org"}
        answer = self._send("register", name, "POST", "/api/v1/associations", self.stage.secretary, json=body)
        if answer.accepted:
            with self._lock:
                self.stage.own_associations.append(answer.body["id"])

    def edit(self) -> None:
        with self._lock:
            if not self.stage.own_associations:
                return
            association_id = random.choice(self.stage.own_associations)
        description = f"Edited {uuid.uuid4().hex[:12]}"
        path = f"/api/v1/associations/{association_id}"
        self._send("edit", f"{association_id} {description}", "PATCH", path, self.stage.secretary,
                   json={"description": description})  # fmt: skip

    def post_message(self) -> None:
        text = f"Chaos message {uuid.uuid4().hex[:12]}"
        self._send("post message", text, "POST", f"{self.stage.conversation_path}/messages", self.stage.poster,
                   json={"body": text}, headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip

    def broadcast(self) -> None:
        subject = f"Chaos broadcast {uuid.uuid4().hex[:12]}"
        body = {"audience": {"countries": [HELP_COUNTRY]}, "subject": subject, "body": "Chaos test: please ignore."}
        self._send("broadcast", subject, "POST", "/api/v1/broadcasts", self.stage.cell, json=body,
                   headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip

    def search(self) -> None:
        """A public read, which may be asked again."""
        self._send("search", "", "GET", "/api/v1/search/associations", params={"q": "chaos fellowship"})

    def raise_and_claim_help(self) -> None:
        requester = self.stage.secretary
        raised = self._send("raise help", "", "POST", "/api/v1/alerts", requester, json=help_request())
        if not raised.accepted:
            return
        with self._lock:  # the key is the id, known only now
            self.answers[self.answers.index(raised)] = Answer(
                raised.fault, raised.operation, raised.status, raised.seconds, raised.body["id"], raised.body
            )
        admin, association_id = self.stage.helpers[1]
        self._send("claim help", raised.body["id"], "POST", f"/api/v1/alerts/{raised.body['id']}/claim", admin,
                   json={"association_id": association_id})  # fmt: skip


def never_sent(exc: requests.ConnectionError) -> bool:
    """The connection was never made (refused: no process listening), so the server saw nothing of the request."""
    reason = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else None
    return isinstance(reason, NewConnectionError)


def help_request() -> dict:
    return {
        "category": "medical", "urgency": "immediate", "severity": "severe",
        "description": f"Chaos test {uuid.uuid4().hex[:8]}: taken to hospital after a fall at work.",
        "location": {"lat": 29.37, "lon": 47.98, "country": HELP_COUNTRY, "city": HELP_CITY}, "languages": ["lus"],
        "contact": {"name": "A cousin", "phone": "+96550000000"},
    }  # fmt: skip
