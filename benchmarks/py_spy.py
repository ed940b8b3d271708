"""py-spy sampling running processes during a benchmark, and the frames that cost most in its samples."""

import subprocess
import sys
from collections import Counter
from pathlib import Path


def start_sampling(outputs: dict[Path, int], seconds: float) -> list[subprocess.Popen]:
    """py-spy sampling each process (output file → pid) for `seconds` without pausing it, raw stacks into the file.
    Wait for the returned samplers before reading the files."""
    py_spy = Path(sys.executable).parent / "py-spy"
    for output in outputs:
        output.parent.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                str(py_spy),
                "record",
                "--pid",
                str(pid),
                "--duration",
                f"{seconds:g}",
                "--format",
                "raw",
                "--output",
                str(output),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for output, pid in outputs.items()
    ]


def print_profile(path: Path, top: int = 25) -> None:
    """The frames most often on the stack (inclusive), as a share of the process's busy samples."""
    inclusive, total = Counter(), 0
    for line in filter(None, path.read_text().splitlines()):
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in set(stack.split(";")):
            inclusive[frame] += int(count)
    print(f"\n{path.stem}: {total} samples; frames most often on the stack")
    for frame, count in inclusive.most_common(top):
        print(f"  {count / total:6.1%}  {frame[:140]}")
