"""Security at the edges: member PKI, TLS transport, audit log, officer credentials."""
