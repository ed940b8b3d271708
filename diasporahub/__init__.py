"""The `diasporahub` command: run the whole system, prepare its databases and bus."""
