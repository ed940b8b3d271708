"""`diasporahub messaging rebuild-directory` against the running system."""

import re
import subprocess
import sys

from tests.e2e.test_individuals_api import register_person, verified_association


def test_the_operator_rebuilds_messaging_s_directory_from_the_registry(system, person, cell_staff):
    someone = person()
    register_person(someone)
    _, association = verified_association(person, cell_staff, name="Mizo Fellowship Doha", country="QA", city="Doha")
    requested = someone.request("POST", f"/api/v1/associations/{association['id']}/memberships")
    assert requested.status_code == 201, requested.text

    rebuilt = subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", "messaging", "rebuild-directory"],
        env=system.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert rebuilt.returncode == 0, rebuilt.stderr
    counts = re.fullmatch(r".*: (\d+) associations, (\d+) memberships\.\n", rebuilt.stdout)
    assert counts is not None, rebuilt.stdout
    associations, memberships = map(int, counts.groups())
    assert associations >= 1 and memberships >= 1
