"""Individuals: profiles with a chosen visibility, memberships, export and deletion of one's data."""
