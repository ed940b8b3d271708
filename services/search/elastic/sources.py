"""What Elasticsearch stores of each document: its fields as they are, the public flag or the removal mark, and
beside them what it searches and sorts by, worked out here as the embedded engine works them out."""

from uuid import UUID

from services.search.documents import AssociationDocument, IndividualDocument
from services.search.text import sort_key, words

# Stored for searching only; left out of every document read back.
ASSOCIATION_EXTRAS = ["public", "words", "sort_name"]
INDIVIDUAL_EXTRAS = ["removed", "words", "sort_name"]


def _searched(document: AssociationDocument | IndividualDocument) -> dict:
    return {
        "words": {
            field: " ".join(word for text in texts for word in words(text)) for field, texts in document.texts().items()
        },
        "sort_name": sort_key(document.name),
    }


def association_source(document: AssociationDocument) -> dict:
    return document.model_dump(mode="json") | {"public": document.public} | _searched(document)


def individual_source(document: IndividualDocument) -> dict:
    return document.model_dump(mode="json") | {"removed": False} | _searched(document)


def removal_source(individual_id: UUID) -> dict:
    """A removed individual is kept as a bare tombstone, because Elasticsearch forgets a deleted document's version
    after a minute."""
    return {"id": str(individual_id), "removed": True}
