"""Associations: registration, edits and their history, verification by the Cell, duplicates and merges."""
