"""What crosses the bus: events, RPC payloads and errors. The only code services share."""
