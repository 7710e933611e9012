"""The booted central server test: harness, DR drill and testinfra tests (issue 19)."""
