"""First-start set-up: the `admin` account and the token signing key."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from portside.core.config import Settings
from portside.domain.identity import validate_secret
from portside.services.passwords import generate_secret, hash_secret
from portside.store import users as user_store
from portside.store.database import Database

ADMIN_USERNAME = "admin"


async def ensure_admin(db: Database, settings: Settings) -> str | None:
    """Create the `admin` system administrator if there is none.

    Its password is `settings.admin_password`, or else a generated one, which is
    returned so the caller can show it once. Returns None when nothing was generated.
    There is never a fixed default password.
    """
    async with db.read() as conn:
        if await user_store.find_by_name(conn, ADMIN_USERNAME) is not None:
            return None
    generated = None
    if settings.admin_password is not None:
        password = validate_secret(settings.admin_password.get_secret_value(), "admin password")
    else:
        password = generated = generate_secret(20)
    try:
        async with db.write() as conn:
            if await user_store.find_by_name(conn, ADMIN_USERNAME) is not None:
                return None
            await user_store.create(conn, username=ADMIN_USERNAME, password_hash=hash_secret(password),
                                    realname="System administrator", sysadmin=True)
    except IntegrityError:
        return None  # another node starting at the same moment created it first
    return generated
