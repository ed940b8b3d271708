"""Deliveries by e-mail and webhook: settings, the queue's sender, templates, transports."""
