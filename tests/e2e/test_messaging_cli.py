"""`diasporahub messaging rebuild-directory` against the running system."""

import subprocess
import sys


def test_the_operator_rebuilds_messaging_s_directory_from_the_registry(system, person):
    person().register_association(name="Mizo Fellowship Doha", country="QA", city="Doha")

    rebuilt = subprocess.run(
        [sys.executable, "-m", "diasporahub.cli", "messaging", "rebuild-directory"],
        env=system.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert rebuilt.returncode == 0, rebuilt.stderr
    count = int(rebuilt.stdout.split(": ")[1].split()[0])
    assert count >= 1
