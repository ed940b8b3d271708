"""Search: indexes what the registry publishes and answers queries by text, country and language."""
