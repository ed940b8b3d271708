"""The embedded engine: one SQLite file holds the index and the inbox, written in one transaction.

engine.py          the engine a process holds, and the search port on one SQLite session
generations.py     which generation of each index is live and which one a rebuild is filling
associations.py    associations' durable copy      live_associations.py, memory_index.py   searched in memory
individuals.py     individuals, with FTS5          individual_queries.py, vocabulary.py    their SELECTs and typos
"""
