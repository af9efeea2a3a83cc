"""Contracts shared by every part of Central Kitchen. No I/O lives here."""
