"""The contract suite's Elasticsearch indices, deleted after each test by their names."""

from elasticsearch import Elasticsearch


def delete_indices(client: Elasticsearch, prefix: str) -> None:
    """Elasticsearch 8 refuses to delete by wildcard (`action.destructive_requires_name`), so the names are resolved
    first and deleted as a list."""
    resolved = client.indices.resolve_index(name=f"{prefix}*")
    names = [index["name"] for index in resolved["indices"]]
    if names:
        client.indices.delete(index=names)
