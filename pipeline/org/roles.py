"""Roles and what each may do. Review levels are handled in `pipeline.review.rules`."""

from enum import StrEnum


class Role(StrEnum):
    editor = "editor"
    reviewer = "reviewer"
    signer = "signer"
    admin = "admin"


WRITERS = {Role.editor, Role.reviewer, Role.signer, Role.admin}
TAKEDOWN_ROLES = {Role.signer, Role.admin}
