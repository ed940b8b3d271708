"""Where the OASIS CAP 1.2 schema that advisories are validated against is kept in the repository."""

from pathlib import Path

CAP_SCHEMA = Path(__file__).parent / "data" / "cap-v1.2.xsd"
