"""Who is asking: the person behind the token and their workspace."""

from ninja import Schema


class WorkspaceOut(Schema):
    slug: str
    name: str


class MeOut(Schema):
    email: str
    name: str
    roles: list[str]
    workspace: WorkspaceOut
