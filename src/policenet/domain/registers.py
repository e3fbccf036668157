"""The names of the shared registers."""

from __future__ import annotations

import enum

from policenet.errors import InvalidField


class RegisterName(enum.StrEnum):
    """One shared database at the hub."""

    DOCUMENTS = "documents"
    PERSONS = "persons"
    DNA = "dna"
    FINGERPRINTS = "fingerprints"
    IMAGES = "images"


ALL_REGISTERS: frozenset[RegisterName] = frozenset(RegisterName)


def parse_registers(text: str, field: str = "registers") -> frozenset[RegisterName]:
    """Parse a comma-separated list of register names ("all" means every register).

    An empty string means no register. Unknown names raise InvalidField naming them.
    """
    text = text.strip()
    if text == "all":
        return ALL_REGISTERS
    names: set[RegisterName] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            names.add(RegisterName(part))
        except ValueError:
            known = ", ".join(sorted(r.value for r in RegisterName))
            raise InvalidField(field, f"unknown register {part!r} (known: {known})") from None
    return frozenset(names)


def format_registers(registers: frozenset[RegisterName]) -> str:
    return ",".join(sorted(r.value for r in registers))
