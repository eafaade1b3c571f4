"""Harbor's user models (swagger definitions of the same names, same JSON field names)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from portside.domain.models import User


def as_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class UserCreationReq(BaseModel):
    username: str
    password: str
    email: str = ""
    realname: str = ""
    comment: str = ""


class UserProfile(BaseModel):
    """Only the fields present in the body change."""

    email: str | None = None
    realname: str | None = None
    comment: str | None = None


class UserSysAdminFlag(BaseModel):
    sysadmin_flag: bool


class PasswordReq(BaseModel):
    old_password: str | None = None
    new_password: str


class OIDCCliSecretReq(BaseModel):
    """`secret` empty or absent: Portside generates one and returns it (`{"secret": ...}`) once."""

    secret: str | None = None


class OIDCUserInfo(BaseModel):
    id: int | None = None
    user_id: int | None = None
    subiss: str | None = None
    secret: str | None = None
    creation_time: datetime | None = None
    update_time: datetime | None = None


class UserResp(BaseModel):
    email: str
    realname: str
    comment: str
    user_id: int
    username: str
    sysadmin_flag: bool
    admin_role_in_auth: bool
    oidc_user_meta: OIDCUserInfo | None
    creation_time: datetime
    update_time: datetime

    @classmethod
    def of(cls, user: User) -> UserResp:
        return cls(email=user.email or "", realname=user.realname, comment=user.comment, user_id=user.id,
                   username=user.username, sysadmin_flag=user.sysadmin, admin_role_in_auth=False,
                   oidc_user_meta=None, creation_time=as_utc(user.created_at), update_time=as_utc(user.updated_at))


class UserSearchRespItem(BaseModel):
    user_id: int
    username: str


class Permission(BaseModel):
    resource: str
    action: str


class CliSecret(BaseModel):
    """Portside's answer to a generated CLI secret (Harbor answers 200 with no body)."""

    secret: str
