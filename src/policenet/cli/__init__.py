"""The ``policenet`` command line."""
