"""Individuals and memberships through the registry's entrypoints, handlers and repositories: one contract suite
run on the in-memory fake, SQLite and PostgreSQL, each change with its event in the outbox."""

from uuid import UUID, uuid4

import pytest
from sqlalchemy import event

from contracts.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from tests.registry_fakes import CALLER_PASSWORD, DatabaseRegistry, InMemoryRegistry, RegistrySuite

MWA = {
    "name": "Mizo Welfare Association Dubai",
    "country": "AE",
    "city": "Dubai",
    "languages": ["lus", "en"],
    "email": "mwa.dubai@example.org",
}
PERSON = {
    "name": "Lalremruati",
    "country": "AE",
    "city": "Dubai",
    "languages": ["lus", "en"],
    "email": "ruati@example.org",
    "phone": "+971 50 123 4567",
}


class IndividualSuite(RegistrySuite):
    @pytest.fixture
    def person(self, registry):
        return registry.sign_in("ruati@example.org")

    @pytest.fixture
    def association(self, service, admin, cell):
        registered = service.register_association(admin.token, MWA)
        return service.decide_association(cell.token, registered["id"], {"decision": "verify"})

    def test_a_registered_individual_reads_back_and_is_announced(self, service, registry, person, cell):
        profile = service.register_individual(person.token, PERSON | {"visibility": "associations"})

        assert service.get_individual(person.token, profile["id"]) == profile
        assert service.get_individual(cell.token, profile["id"]) == profile
        assert profile["phone"] == "+971501234567"
        assert registry.events() == ["individual_registered.v1"]
        assert service.whoami(person.token)["individual_id"] == profile["id"]

    def test_a_membership_request_at_registration_writes_both_and_both_events(
        self, service, registry, person, association
    ):
        before = len(registry.events())

        profile = service.register_individual(person.token, PERSON | {"membership_requests": [association["id"]]})

        [membership] = profile["memberships"]
        assert (membership["association_id"], membership["status"]) == (association["id"], "requested")
        assert registry.events()[before:] == ["individual_registered.v1", "membership_changed.v1"]

    def test_the_same_association_asked_twice_at_registration_is_one_request(
        self, service, registry, person, association
    ):
        profile = service.register_individual(
            person.token, PERSON | {"membership_requests": [association["id"], association["id"]]}
        )

        assert [membership["association_id"] for membership in profile["memberships"]] == [association["id"]]
        assert registry.events().count("membership_changed.v1") == 1

    def test_a_registration_that_fails_half_way_writes_neither_the_person_nor_any_event(
        self, service, registry, person, association, admin
    ):
        pending = service.register_association(admin.token, MWA | {"name": "Dubai Mizo Kohhran"})
        before = registry.events()

        with pytest.raises(NotFound):
            service.register_individual(
                person.token, PERSON | {"membership_requests": [association["id"], pending["id"]]}
            )

        assert registry.events() == before
        assert service.whoami(person.token)["individual_id"] is None
        with registry() as work:
            assert work.individuals.of_account(person.account_id) is None

    def test_a_person_updates_their_profile_and_the_update_is_announced(self, service, registry, person):
        profile = service.register_individual(person.token, PERSON)

        changed = service.update_individual(person.token, profile["id"], {"city": "Sharjah", "phone": None})
        service.update_individual(person.token, profile["id"], {"city": "Sharjah"})  # nothing changes

        assert service.get_individual(person.token, profile["id"]) == changed
        assert (changed["city"], changed["phone"], changed["version"]) == ("Sharjah", None, 2)
        assert registry.events() == ["individual_registered.v1", "individual_updated.v1"]

    def test_clearing_a_required_field_is_invalid_rather_than_a_database_error(self, service, person):
        profile = service.register_individual(person.token, PERSON)

        with pytest.raises(Invalid):
            service.update_individual(person.token, profile["id"], {"name": None})

    def test_membership_request_accepted_and_another_declined(self, service, registry, admin, cell, association):
        accepted_person, declined_person = registry.sign_in(), registry.sign_in()
        accepted_profile = service.register_individual(accepted_person.token, PERSON)
        declined_profile = service.register_individual(declined_person.token, PERSON | {"name": "Zothansangi"})
        first = service.request_membership(accepted_person.token, association["id"])
        second = service.request_membership(declined_person.token, association["id"])
        before = len(registry.events())

        accepted = service.decide_membership(admin.token, first["id"], {"decision": "accept"})
        declined = service.decide_membership(cell.token, second["id"], {"decision": "decline"})

        assert (accepted["status"], declined["status"]) == ("accepted", "declined")
        assert registry.events()[before:] == [
            "membership_changed.v1",
            "individual_updated.v1",
            "membership_changed.v1",
        ]
        with registry() as work:
            assert work.individuals.membership(UUID(first["id"]))[1] == 2
            assert work.individuals.accepted_association_ids(UUID(accepted_profile["id"])) == [UUID(association["id"])]
            assert work.individuals.accepted_association_ids(UUID(declined_profile["id"])) == []
        assert service.get_individual(accepted_person.token, accepted_profile["id"])["version"] == 2
        with pytest.raises(Conflict):
            service.decide_membership(admin.token, first["id"], {"decision": "decline"})
        assert len(registry.events()) == before + 3

    def test_another_associations_admin_cannot_decide_and_nothing_changes(self, service, registry, person, association):
        service.register_individual(person.token, PERSON)
        request = service.request_membership(person.token, association["id"])
        other = registry.sign_in()
        service.register_association(other.token, MWA | {"name": "Dubai Mizo Kohhran"})
        before = registry.events()

        with pytest.raises(NotFound):
            service.decide_membership(other.token, request["id"], {"decision": "accept"})

        assert registry.events() == before
        with registry() as work:
            assert work.individuals.membership(UUID(request["id"]))[0].status == "requested"

    def test_an_associations_requests_are_listed_to_its_admins_and_the_cell_only(
        self, service, registry, admin, cell, person, association
    ):
        service.register_individual(person.token, PERSON)
        asked = service.request_membership(person.token, association["id"])
        other = registry.sign_in()
        service.register_association(other.token, MWA | {"name": "Dubai Mizo Kohhran"})

        for caller in (admin, cell):
            listed = service.association_memberships(caller.token, association["id"], {"status": "requested"})
            assert [(item["id"], item["individual_name"], item["individual_city"]) for item in listed["items"]] == [
                (asked["id"], "Lalremruati", "Dubai")
            ]
            assert "email" not in listed["items"][0]
        assert service.association_memberships(admin.token, association["id"], {"status": "accepted"}) == {"items": []}
        for stranger in (person, other):
            with pytest.raises(NotFound):
                service.association_memberships(stranger.token, association["id"], {})

    def test_an_unverified_associations_admins_may_not_see_who_asked_to_join(self, service, registry, admin):
        pending = service.register_association(admin.token, MWA)

        with pytest.raises(Forbidden):
            service.association_memberships(admin.token, pending["id"], {})
        with pytest.raises(NotFound):
            service.association_memberships(admin.token, "not-an-id", {})

    def test_an_account_without_a_profile_deletes_itself_and_its_sessions_and_admin_rights(
        self, service, registry, admin, association
    ):
        assert service.export_account(admin.token)["administers"] == [association["id"]]

        service.delete_account(admin.token, {"password": CALLER_PASSWORD})

        assert not registry.account_exists(admin.account_id)
        assert registry.open_sessions(admin.account_id) == 0
        with registry() as work:
            assert work.associations.admin_ids(UUID(association["id"])) == set()
            assert work.associations.get(UUID(association["id"])) is not None

    def test_deleting_removes_the_person_and_the_account_and_anonymises_the_memberships(
        self, service, registry, person, association, admin
    ):
        profile = service.register_individual(person.token, PERSON | {"membership_requests": [association["id"]]})
        [membership] = profile["memberships"]
        service.decide_membership(admin.token, membership["id"], {"decision": "accept"})
        before = len(registry.events())

        service.delete_individual(person.token, profile["id"], {"password": CALLER_PASSWORD})

        assert registry.events()[before:] == ["individual_deleted.v1", "account_deleted.v1"]
        assert not registry.account_exists(person.account_id)
        assert registry.open_sessions(person.account_id) == 0
        with registry() as work:
            assert work.individuals.get(UUID(profile["id"])) is None
            anonymised, _version = work.individuals.membership(UUID(membership["id"]))
        assert (anonymised.individual_id, anonymised.association_id, anonymised.status) == (
            None,
            UUID(association["id"]),
            "accepted",
        )
        with pytest.raises(Unauthenticated):
            service.whoami(person.token)
        with pytest.raises(NotFound):
            service.decide_membership(admin.token, str(uuid4()), {"decision": "accept"})

    def test_a_person_exports_everything_the_registry_holds_about_them(self, service, person, association):
        profile = service.register_individual(person.token, PERSON | {"membership_requests": [association["id"]]})

        exported = service.export_individual(person.token, profile["id"])

        assert (exported["account"]["email"], exported["account"]["display_name"]) == (
            "ruati@example.org",
            "Lalremruata",
        )
        assert exported["profile"] == {key: value for key, value in profile.items() if key != "memberships"}
        assert [(item["association_id"], item["association_name"]) for item in exported["memberships"]] == [
            (association["id"], MWA["name"])
        ]

    def test_the_visibility_is_checked_against_what_the_database_says_of_the_viewer(
        self, service, registry, person, admin, association
    ):
        profile = service.register_individual(person.token, PERSON | {"visibility": "associations"})
        unverified_admin = registry.sign_in()
        service.register_association(unverified_admin.token, MWA | {"name": "Dubai Mizo Kohhran"})

        assert set(service.get_individual(admin.token, profile["id"])) == {"id", "name", "country", "city", "languages"}
        for token in (unverified_admin.token, None):
            with pytest.raises(NotFound):
                service.get_individual(token, profile["id"])

    def test_individuals_come_in_id_order_a_page_at_a_time_as_events_show_them(
        self, service, registry, admin, association
    ):
        callers = [registry.sign_in() for _ in "ABCDE"]
        profiles = [
            service.register_individual(caller.token, PERSON | {"name": f"Person {letter}"})
            for caller, letter in zip(callers, "ABCDE", strict=True)
        ]
        member = profiles[2]
        request = service.request_membership(callers[2].token, association["id"])
        service.decide_membership(admin.token, request["id"], {"decision": "accept"})
        service.request_membership(callers[0].token, association["id"])  # requested only: not a member yet

        first = service.individuals_after(None, 3)
        rest = service.individuals_after(first[-1]["individual"]["id"], 3)

        assert [item["individual"]["id"] for item in first + rest] == sorted(profile["id"] for profile in profiles)
        by_id = {item["individual"]["id"]: item for item in first + rest}
        assert by_id[member["id"]] == {
            "individual": {
                "id": member["id"],
                "name": "Person C",
                "country": "AE",
                "city": "Dubai",
                "languages": member["languages"],
                "visibility": member["visibility"],
                "association_ids": [association["id"]],
            },
            "version": 2,
        }
        assert {item["version"] for id_, item in by_id.items() if id_ != member["id"]} == {1}
        assert all(item["individual"]["association_ids"] == [] for id_, item in by_id.items() if id_ != member["id"])
        assert not any({"email", "phone", "account_id"} & set(item["individual"]) for item in first + rest)
        assert service.individuals_after(rest[-1]["individual"]["id"], 3) == []

    def test_a_page_of_individuals_is_clamped_to_between_one_and_a_thousand(self, service, registry):
        for _ in range(2):
            service.register_individual(registry.sign_in().token, PERSON)

        assert len(service.individuals_after(None, 0)) == 1
        assert len(service.individuals_after(None, 10**6)) == 2

    def test_memberships_come_in_id_order_a_page_at_a_time_anonymised_ones_included(
        self, service, registry, admin, association
    ):
        callers = [registry.sign_in() for _ in range(3)]
        for caller in callers:
            service.register_individual(caller.token, PERSON | {"membership_requests": [association["id"]]})
        requests = [service.whoami(caller.token)["individual_id"] for caller in callers]
        memberships = {
            membership["individual_id"]: membership
            for membership in service.association_memberships(admin.token, association["id"], {})["items"]
        }
        accepted = service.decide_membership(admin.token, memberships[requests[0]]["id"], {"decision": "accept"})
        gone = service.decide_membership(admin.token, memberships[requests[1]]["id"], {"decision": "accept"})
        service.delete_individual(callers[1].token, requests[1], {"password": CALLER_PASSWORD})

        first = service.memberships_after(None, 2)
        rest = service.memberships_after(first[-1]["membership"]["id"], 2)

        assert [item["membership"]["id"] for item in first + rest] == sorted(m["id"] for m in memberships.values())
        by_id = {item["membership"]["id"]: item for item in first + rest}
        assert by_id[accepted["id"]] == {"membership": accepted, "version": 2}
        assert by_id[gone["id"]] == {"membership": gone | {"individual_id": None}, "version": 2}
        waiting = memberships[requests[2]]
        assert by_id[waiting["id"]] == {"membership": {key: waiting[key] for key in accepted}, "version": 1}
        assert service.memberships_after(rest[-1]["membership"]["id"], 2) == []

    def test_a_page_of_memberships_is_clamped_to_between_one_and_a_thousand(self, service, registry, association):
        for _ in range(2):
            service.register_individual(registry.sign_in().token, PERSON | {"membership_requests": [association["id"]]})

        assert len(service.memberships_after(None, 0)) == 1
        assert len(service.memberships_after(None, 10**6)) == 2


class TestInMemory(IndividualSuite):
    @pytest.fixture
    def registry(self):
        return InMemoryRegistry()


class TestOnDatabases(IndividualSuite):
    @pytest.fixture
    def registry(self, database_url):
        registry = DatabaseRegistry(database_url)
        yield registry
        registry.close()

    def test_a_page_of_individuals_takes_two_queries_whatever_its_size(self, service, registry, admin, association):
        callers = [registry.sign_in() for _ in range(4)]
        for caller in callers:
            service.register_individual(caller.token, PERSON)
            request = service.request_membership(caller.token, association["id"])
            service.decide_membership(admin.token, request["id"], {"decision": "accept"})
        statements: list[str] = []

        def record(_connection, _cursor, statement, *_rest) -> None:
            statements.append(statement)

        event.listen(registry.engine, "before_cursor_execute", record)
        try:
            page = service.individuals_after(None, 10)
        finally:
            event.remove(registry.engine, "before_cursor_execute", record)

        assert [item["individual"]["association_ids"] for item in page] == [[association["id"]]] * 4
        assert len([statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]) == 2
