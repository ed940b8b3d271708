"""The Elasticsearch engine: index settings and mappings, query bodies, and the adapter that sends them."""
