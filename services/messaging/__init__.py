"""Messaging: conversations, broadcasts, inboxes and deliveries by e-mail and webhook."""
