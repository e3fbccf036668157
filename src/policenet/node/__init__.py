"""The node: officer login, web UI, national-system API and the client of the hub."""
