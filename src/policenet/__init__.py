"""policenet: an open network for police cooperation across borders.

The package has two roles of one program: the hub (shared registers, hit
routing, member PKI, audit log) and the node (run by each member, where
officers log in and national systems call in). See ``docs/`` and the README.
"""

__version__ = "0.1.0"
