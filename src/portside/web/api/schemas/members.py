"""Harbor's project member models (swagger definitions, exact JSON field names)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from portside.domain.models import Member
from portside.domain.rbac import Role
from portside.services.members import MemberRequest


class UserEntity(BaseModel):
    user_id: int | None = None
    username: str | None = None


class UserGroup(BaseModel):
    id: int | None = None
    group_name: str | None = None
    group_type: int | None = None
    ldap_group_dn: str | None = None


class ProjectMember(BaseModel):
    """The body of POST /projects/{p}/members: a role and a user (groups are refused)."""

    role_id: int | None = None
    member_user: UserEntity | None = None
    member_group: UserGroup | None = None

    def to_request(self) -> MemberRequest:
        user = self.member_user or UserEntity()
        return MemberRequest(role_id=self.role_id, user_id=user.user_id, username=user.username,
                             group=self.member_group is not None)


class RoleRequest(BaseModel):
    role_id: int | None = None


class ProjectMemberEntity(BaseModel):
    id: int
    project_id: int
    entity_name: str
    role_name: str
    role_id: int
    entity_id: int
    entity_type: str


def member_body(member: Member) -> dict[str, Any]:
    """The ProjectMemberEntity JSON of a user member."""
    return ProjectMemberEntity(
        id=member.id, project_id=member.project_id, entity_name=member.username,
        role_name=Role(member.role).harbor_name, role_id=member.role, entity_id=member.user_id, entity_type="u",
    ).model_dump(mode="json")
