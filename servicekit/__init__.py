"""What every DiasporaHub service is built with: configuration, database, outbox, bus, RPC, logs."""
