"""Console users and API tokens: argon2 password hashes, tokens stored only as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from telecare import audit
from telecare.actor import Actor
from telecare.errors import N_, FieldError, ValidationFailed
from telecare.models import ApiToken, Role, User

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, display_name: str, role: Role | str,
                password: str, actor: Actor, now: datetime, language: str = "it") -> User:
    errors = []
    username = username.strip().lower()
    if not username:
        errors.append(FieldError("username", N_("is required")))
    elif session.scalars(select(User).where(User.username == username)).first():
        errors.append(FieldError("username", N_("%(value)s is taken"), {"value": username}))
    try:
        role = Role(role)
    except ValueError:
        errors.append(FieldError("role", N_("%(value)s is not one of %(choices)s"),
                                 {"value": role, "choices": ", ".join(r.value for r in Role)}))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", N_("must be at least %(n)d characters"),
                                 {"n": MIN_PASSWORD_LENGTH}))
    if errors:
        raise ValidationFailed(errors)
    user = User(username=username, display_name=display_name.strip() or username, role=role,
                password_hash=hash_password(password), created_at=now, language=language)
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id, now, role=role.value)
    return user


def authenticate(session: Session, username: str, password: str, now: datetime) -> User | None:
    user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_token(session: Session, user: User, name: str, actor: Actor,
                 now: datetime) -> tuple[ApiToken, str]:
    """A new bearer token; the secret is returned once and never stored."""
    secret = "tc_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip() or "api", token_hash=_digest(secret),
                     created_at=now)
    session.add(token)
    session.flush()
    audit.record(session, actor, "create", "api_token", token.id, now, user=user.username)
    return token, secret


def user_for_token(session: Session, secret: str, now: datetime) -> User | None:
    token = session.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None)
        )
    ).first()
    if token is None or not token.user.active:
        return None
    token.last_used_at = now
    return token.user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
