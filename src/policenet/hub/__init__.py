"""The hub: the shared registers, hit routing, member PKI and the audit log."""
