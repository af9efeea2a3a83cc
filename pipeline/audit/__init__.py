"""The append-only audit log: who did what, when, to which revision."""

from pipeline.audit.log import entries, record

__all__ = ["entries", "record"]
