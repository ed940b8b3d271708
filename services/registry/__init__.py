"""The registry: associations, individuals and accounts; the source of truth."""
