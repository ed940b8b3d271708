"""The HTTP API (and, later, the web pages): parses HTTP into contracts and calls the services."""
