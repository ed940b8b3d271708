"""Password hashes: argon2id, verified without exceptions, as slow for an unknown account as for a known one."""

import time

from services.registry.accounts.passwords import Argon2Passwords

PASSWORD = "Thingtlang ram 2025"


def test_the_default_is_argon2id_with_rfc_9106_low_memory_parameters():
    password_hash = Argon2Passwords().hash(PASSWORD)

    assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in password_hash


def test_a_hash_verifies_its_password_and_no_other():
    passwords = Argon2Passwords.of_profile("fast-for-tests-only")
    password_hash = passwords.hash(PASSWORD)

    assert passwords.verify(password_hash, PASSWORD)
    assert not passwords.verify(password_hash, PASSWORD.lower())
    assert not passwords.verify("not a hash at all", PASSWORD)
    assert passwords.hash(PASSWORD) != password_hash  # salted


def test_an_unknown_account_takes_as_long_as_a_wrong_password():
    passwords = Argon2Passwords()
    password_hash = passwords.hash(PASSWORD)
    passwords.verify(None, "warm up the stand-in hash")

    started = time.perf_counter()
    assert not passwords.verify(password_hash, "a wrong password")
    wrong = time.perf_counter() - started
    started = time.perf_counter()
    assert not passwords.verify(None, PASSWORD)
    unknown = time.perf_counter() - started

    assert unknown > wrong / 3


def test_a_hash_made_with_weaker_parameters_needs_rehashing():
    weak = Argon2Passwords.of_profile("fast-for-tests-only").hash(PASSWORD)

    assert Argon2Passwords().needs_rehash(weak)
    assert not Argon2Passwords().needs_rehash(Argon2Passwords().hash(PASSWORD))


def test_hashing_can_run_elsewhere():
    ran = []

    def offload(function, *args):
        ran.append(function.__name__)
        return function(*args)

    passwords = Argon2Passwords.of_profile("fast-for-tests-only", offload=offload)
    assert passwords.verify(passwords.hash(PASSWORD), PASSWORD)

    assert ran == ["hash", "verify"]


def test_no_more_hashes_run_at_once_than_there_are_slots_and_one_left_waiting_is_unavailable():
    import threading

    import pytest

    from contracts.errors import Unavailable
    from services.registry.accounts.passwords import bounded

    slots = threading.Semaphore(2)
    running, most, release = [0], [0], threading.Event()
    lock = threading.Lock()

    def slow(function, *args):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return function(*args)

    passwords = Argon2Passwords.of_profile("fast-for-tests-only", offload=bounded(slow, slots, wait_seconds=0.2))
    hashing = [threading.Thread(target=passwords.hash, args=(PASSWORD,)) for _ in range(2)]
    for thread in hashing:
        thread.start()
    time.sleep(0.05)

    with pytest.raises(Unavailable, match="try again in a few seconds"):
        passwords.hash(PASSWORD)

    release.set()
    for thread in hashing:
        thread.join()
    assert most[0] == 2
    assert passwords.verify(passwords.hash(PASSWORD), PASSWORD)


def test_the_fast_profile_for_tests_hashes_with_tiny_parameters_and_verifies():
    passwords = Argon2Passwords.of_profile("fast-for-tests-only")
    password_hash = passwords.hash(PASSWORD)

    assert password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert passwords.verify(password_hash, PASSWORD)


def test_weaker_parameters_never_replace_a_stronger_hash_and_the_default_replaces_a_weak_one():
    fast = Argon2Passwords.of_profile("fast-for-tests-only")
    default = Argon2Passwords.of_profile("rfc9106-low-memory")

    assert not fast.needs_rehash(default.hash(PASSWORD))
    assert default.needs_rehash(fast.hash(PASSWORD))
