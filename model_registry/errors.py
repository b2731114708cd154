"""What can go wrong in the registry, as exceptions a CLI or a pipeline step can explain."""

from __future__ import annotations


class RegistryError(Exception):
    """Bad input or a state the registry refuses to act on; the message says what and where."""


class NotFoundError(RegistryError):
    """An unknown model, version or alias."""


class MalformedRecordError(RegistryError):
    """A pointer, manifest or history object that is not what the registry writes."""


class ConflictError(RegistryError):
    """Somebody else changed the object first (generation precondition failed) or it exists."""


class DamagedVersionError(RegistryError):
    """A version whose files are not the ones its manifest lists (deleted, truncated, added)."""
