"""Associations and imports through the registry's entrypoints, handlers and repositories: one contract suite
run on the in-memory fake, SQLite and PostgreSQL. Every state change writes its event to the outbox in the same
transaction; a failed change writes neither."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.associations import AssociationDraft, AssociationPatch, AssociationV1, PossibleDuplicate
from contracts.errors import Conflict, Forbidden, NotFound
from services.registry.associations import domain
from services.registry.associations.domain import FieldChange
from services.registry.associations.duplicates import Candidate
from tests.registry_fakes import DatabaseRegistry, FakeGazetteer, InMemoryRegistry, RegistrySuite

MWA = {
    "name": "Mizo Welfare Association Dubai",
    "alternate_names": ["MWA Dubai"],
    "country": "AE",
    "city": "Dubai",
    "languages": ["lus", "en"],
    "email": "mwa.dubai@example.org",
    "website": "https://mwa-dubai.example.org",
    "office_bearers": [{"name": "Lalthanzara", "title": "President", "term_start": "2025-01-01"}],
}
SHARJAH = MWA | {"name": "Sharjah Mizo Kohhran", "alternate_names": [], "city": "Sharjah", "email": "smk@example.org"}
CSV = (
    "name,alternate_names,country,city,languages,email,description\n"
    'Mizo Welfare Association Dubai,MWA Dubai,AE,Dubai,lus;en,mwa@example.org,"Sundays\nat 10:00"\n'
    "Bad Country,,XX,Dubai,lus,bad@example.org,\n"
    "Mizo Fellowship Singapore,,SG,Singapore,lus,mfs@example.org,\n"
    "MWA Dubai,,AE,Dubai,lus,mwa2@example.org,\n"
)


def association_record(status: str = "verified", **changes) -> AssociationV1:
    now = datetime.now(UTC)
    fields = {k: v for k, v in MWA.items() if k != "office_bearers"} | {
        "id": uuid4(),
        "status": status,
        "version": 1,
        "registered_at": now,
        "updated_at": now,
    }
    return AssociationV1.model_validate(fields | changes)


class AssociationSuite(RegistrySuite):
    """Written once; each subclass gives `registry` (a unit-of-work factory with the test helpers)."""

    def test_a_registered_association_reads_back_whole_and_its_event_is_in_the_outbox(
        self, service, registry, admin, cell
    ):
        association = service.register_association(admin.token, MWA)

        assert service.get_association(admin.token, association["id"]) == association
        assert association["website"] == "https://mwa-dubai.example.org/"
        assert association["office_bearers"][0]["term_start"] == "2025-01-01"
        assert registry.events() == ["association_registered.v1"]
        with registry() as work:
            assert work.associations.admin_ids(UUID(association["id"])) == {admin.account_id}
            assert work.associations.exists(UUID(association["id"]))
            assert not work.associations.exists(uuid4())
        assert service.whoami(admin.token)["administers"] == [
            {"id": association["id"], "country": "AE", "verified": False}
        ]

    def test_edits_are_kept_with_their_history_and_each_writes_one_event(self, service, registry, admin):
        association = service.register_association(admin.token, MWA)

        service.update_association(admin.token, association["id"], {"city": "Sharjah", "office_bearers": []})
        service.update_association(admin.token, association["id"], {"city": "Sharjah"})  # nothing changes
        updated = service.update_association(admin.token, association["id"], {"website": None, "member_count": 120})

        assert service.get_association(admin.token, association["id"]) == updated
        assert updated["version"] == 3
        assert registry.events() == ["association_registered.v1", "association_updated.v1", "association_updated.v1"]
        history = service.association_history(admin.token, association["id"])
        assert [(entry["field"], entry["old_value"], entry["new_value"]) for entry in history] == [
            ("city", "Dubai", "Sharjah"),
            ("location", association["location"], FakeGazetteer.CITIES[("sharjah", "AE")].model_dump()),
            ("office_bearers", association["office_bearers"], []),
            ("website", "https://mwa-dubai.example.org/", None),
            ("member_count", None, 120),
        ]
        assert {entry["account_id"] for entry in history} == {str(admin.account_id)}
        assert all(datetime.fromisoformat(entry["changed_at"]).tzinfo is not None for entry in history)

    def test_decisions_change_the_status_record_the_history_and_write_their_events(
        self, service, registry, admin, cell
    ):
        association = service.register_association(admin.token, MWA)

        rejected = service.decide_association(
            cell.token, association["id"], {"decision": "reject", "reason": "unknown church"}
        )
        verified = service.decide_association(cell.token, association["id"], {"decision": "verify"})

        assert (rejected["status"], rejected["status_reason"]) == ("rejected", "unknown church")
        assert service.get_association(None, association["id"]) == verified
        assert registry.events()[-2:] == ["association_rejected.v1", "association_verified.v1"]
        assert [entry["field"] for entry in service.association_history(cell.token, association["id"])] == [
            "status",
            "status_reason",
            "status",
            "status_reason",
            "verification_due_at",
        ]
        assert service.whoami(admin.token)["administers"][0]["verified"] is True

    def test_a_refused_change_writes_neither_state_nor_event(self, service, registry, admin, cell):
        association = service.register_association(admin.token, MWA)
        other = registry.sign_in()
        service.register_association(other.token, SHARJAH)
        before = registry.events()

        with pytest.raises(NotFound):
            service.update_association(other.token, association["id"], {"name": "Taken Over"})
        with pytest.raises(Forbidden):
            service.merge_association(other.token, association["id"], str(uuid4()))

        assert registry.events() == before
        assert service.get_association(admin.token, association["id"]) == association
        assert service.association_history(admin.token, association["id"]) == []

    def test_a_unit_of_work_that_fails_keeps_neither_the_association_nor_its_event(self, registry):
        association, registered = domain.register(
            AssociationDraft.model_validate(MWA), now=datetime.now(UTC), locate_city=FakeGazetteer().locate, actor=None
        )
        with pytest.raises(RuntimeError), registry() as work:
            work.associations.add(association)
            work.add_event(registered)
            raise RuntimeError("the handler failed after writing")

        assert registry.events() == []
        with registry() as work:
            assert work.associations.get(association.id) is None

    def test_of_two_concurrent_edits_the_later_one_is_refused_not_applied_over_the_other(
        self, service, registry, admin
    ):
        association = service.register_association(admin.token, MWA)
        association_id = UUID(association["id"])
        slow = registry()
        slow.__enter__()
        read_by_slow = slow.associations.get(association_id)
        service.update_association(admin.token, association["id"], {"name": "Mizo Welfare Association UAE"})

        edited, _, event = domain.edit(
            read_by_slow,
            AssociationPatch(description="Edited meanwhile"),
            now=datetime.now(UTC),
            locate_city=FakeGazetteer().locate,
            actor=admin.account_id,
        )
        with pytest.raises(Conflict):
            try:
                slow.associations.save(edited)
                slow.add_event(event)
            finally:
                slow.__exit__(None, None, None)

        assert service.get_association(admin.token, association["id"])["name"] == "Mizo Welfare Association UAE"

    def test_the_review_queue_shows_possible_duplicates_and_a_merge_clears_them(self, service, registry, admin, cell):
        kept = service.register_association(admin.token, MWA)
        duplicate = service.register_association(admin.token, MWA | {"name": "MWA Dubai", "alternate_names": []})
        service.register_association(admin.token, MWA | {"country": "SG", "city": "Singapore"})

        review = service.review_associations(cell.token, {"status": "pending"})

        assert review["total"] == 3
        flagged = {item["id"]: item["possible_duplicates"] for item in review["items"]}
        assert flagged[duplicate["id"]] == [{"id": kept["id"], "name": MWA["name"], "score": 100}]
        assert flagged[kept["id"]] == []

        merged = service.merge_association(cell.token, duplicate["id"], kept["id"])

        assert merged["merged_into"] == kept["id"]
        assert service.get_association(cell.token, duplicate["id"]) == merged
        assert registry.events()[-1] == "association_merged.v1"
        [entry] = service.association_history(cell.token, duplicate["id"])
        assert (entry["field"], entry["new_value"], entry["account_id"]) == (
            "merged_into",
            kept["id"],
            str(cell.account_id),
        )
        after = service.review_associations(cell.token, {"status": "pending"})
        assert after["total"] == 2
        assert duplicate["id"] not in {item["id"] for item in after["items"]}

    def test_keeping_the_newer_association_drops_the_merged_one_from_its_possible_duplicates(
        self, service, admin, cell
    ):
        older = service.register_association(admin.token, MWA)
        newer = service.register_association(admin.token, MWA | {"name": "MWA Dubai", "alternate_names": []})

        service.merge_association(cell.token, older["id"], newer["id"])

        [item] = service.review_associations(cell.token, {})["items"]
        assert (item["id"], item["possible_duplicates"]) == (newer["id"], [])

    def test_the_review_queue_pages_in_registration_order(self, service, admin, cell):
        ids = [service.register_association(admin.token, SHARJAH | {"name": f"Kohhran {n}"})["id"] for n in "ABCDE"]

        pages = [service.review_associations(cell.token, {"size": 2, "page": page}) for page in (1, 2, 3, 4)]

        assert [page["total"] for page in pages] == [5] * 4
        assert [[item["id"] for item in page["items"]] for page in pages] == [ids[0:2], ids[2:4], ids[4:], []]

    def test_verifications_due_are_the_verified_open_ones_past_their_date(self, service, registry, cell):
        now = datetime.now(UTC)
        due = association_record(verification_due_at=now - timedelta(days=2))
        later_due = association_record(verification_due_at=now - timedelta(days=1))
        not_yet = association_record(verification_due_at=now + timedelta(days=1))
        suspended = association_record("suspended", verification_due_at=now - timedelta(days=3))
        merged = association_record(verification_due_at=now - timedelta(days=3), merged_into=due.id)
        with registry() as work:
            for association in (later_due, not_yet, suspended, merged, due):
                work.associations.add(association)

        listed = service.associations_due_for_verification(cell.token)

        assert [association["id"] for association in listed] == [str(due.id), str(later_due.id)]
        with registry() as work:
            assert [a.id for a in work.associations.due_for_verification(now + timedelta(days=2))] == [
                due.id,
                later_due.id,
                not_yet.id,
            ]

    def test_importing_a_file_twice_adds_nothing_the_second_time(self, service, registry, cell):
        first = service.import_associations_csv(cell.token, CSV)
        events_after_first = registry.events()

        second = service.import_associations_csv(cell.token, CSV)

        assert [bad["line"] for bad in first["bad_rows"]] == [4]
        assert sorted(row["line"] for row in first["imported"]) == [2, 5, 6]
        assert events_after_first == ["association_registered.v1"] * 3
        assert (second["imported"], sorted(second["already_imported"])) == ([], [2, 5, 6])
        assert registry.events() == events_after_first
        assert len(service.export_associations(cell.token, {"format": "json"})["items"]) == 3
        flagged = {item["name"]: item for item in service.review_associations(cell.token, {})["items"]}
        assert flagged["Mizo Welfare Association Dubai"]["description"] == "Sundays\nat 10:00"
        assert [candidate["name"] for candidate in flagged["MWA Dubai"]["possible_duplicates"]] == [MWA["name"]]

    def test_an_import_row_whose_parent_does_not_exist_is_a_bad_row(self, service, registry, cell):
        report = service.import_associations_csv(
            cell.token, f"name,country,city,languages,email,parent_id\nA Branch,AE,Dubai,lus,b@example.org,{uuid4()}\n"
        )

        assert ([bad["line"] for bad in report["bad_rows"]], report["imported"]) == ([2], [])

    def test_an_import_finds_duplicates_of_associations_registered_before_it(self, service, admin, cell):
        registered = service.register_association(admin.token, MWA)

        report = service.import_associations_csv(
            cell.token, "name,country,city,languages,email\nMWA Dubai,AE,Dubai,lus,x@example.org\n"
        )

        [imported] = report["imported"]
        items = {item["id"]: item for item in service.review_associations(cell.token, {})["items"]}
        assert [candidate["id"] for candidate in items[imported["id"]]["possible_duplicates"]] == [registered["id"]]

    def test_associations_come_in_id_order_a_page_at_a_time(self, service, admin):
        ids = sorted(
            UUID(service.register_association(admin.token, SHARJAH | {"name": f"K {n}"})["id"]) for n in "ABCDE"
        )

        first = service.associations_after(None, 3)
        rest = service.associations_after(first[-1]["id"], 3)

        assert [UUID(item["id"]) for item in first + rest] == ids

    def test_duplicate_checks_see_the_open_associations_of_the_country_with_all_their_names(self, registry):
        open_one = association_record("pending", alternate_names=["MWA Dubai", "MWA"])
        others = [
            association_record("dissolved"),
            association_record(merged_into=open_one.id),
            association_record(country="SG", city="Singapore"),
        ]
        with registry() as work:
            for association in (open_one, *others):
                work.associations.add(association)

        with registry() as work:
            [named] = work.associations.named_in_country("AE")

        assert (named.id, named.names) == (open_one.id, (MWA["name"], "MWA Dubai", "MWA"))

    def test_history_and_duplicate_flags_keep_json_values_and_scores(self, registry):
        first, second = association_record(), association_record()
        now = datetime.now(UTC)
        changes = [
            FieldChange("office_bearers", [], [{"name": "Lal", "title": "President"}]),
            FieldChange("member_count", None, 120),
            FieldChange("location", {"lat": 25.2, "lon": 55.27}, None),
        ]
        with registry() as work:
            work.associations.add(first)
            work.associations.add(second, import_key="a" * 64)
            work.associations.record_history(first.id, changes, account_id=None, now=now)
            work.associations.flag_duplicates({first.id: [Candidate(second.id, 88)]})

        with registry() as work:
            history = work.associations.history(first.id)
            assert [(e.field, e.old_value, e.new_value, e.account_id) for e in history] == [
                (change.field, change.old_value, change.new_value, None) for change in changes
            ]
            assert history[0].changed_at == now
            assert work.associations.possible_duplicates([first.id, second.id]) == {
                first.id: [PossibleDuplicate(id=second.id, name=second.name, score=88)],
                second.id: [],
            }
            assert work.associations.imported_keys(["a" * 64, "b" * 64]) == {"a" * 64}


class TestInMemory(AssociationSuite):
    @pytest.fixture
    def registry(self):
        return InMemoryRegistry()


class TestOnDatabases(AssociationSuite):
    @pytest.fixture
    def registry(self, database_url):
        registry = DatabaseRegistry(database_url)
        yield registry
        registry.close()
