"""The pure domain: members, record envelopes, access decisions, audit entries, events.

Nothing in this package does I/O: no files, sockets, databases or clocks.
Functions that need the time take ``now`` as an argument.
"""
