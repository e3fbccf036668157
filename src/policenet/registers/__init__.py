"""The shared registers, one package each, all of the shape set in :mod:`.base`."""
