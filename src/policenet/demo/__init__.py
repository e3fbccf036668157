"""The demonstration network: a hub and five member nodes on this machine."""
