"""Following writers and blocking users.

Blocking, decided here and enforced by the community and follow code:

* the blocker no longer sees the blocked user's comments (and replies) anywhere;
* the blocked user cannot follow the blocker, nor comment on the blocker's stories or reply to the
  blocker's comments (403 ``BLOCKED``); reading stays possible, since published work is public;
* a block removes follows in both directions.

Only writers (and admins) can be followed: a follow is a subscription to someone's stories.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import Role, User
from content.errors import Blocked, InvalidRequest, NotFound
from content.models.reading import Block, Follow

FOLLOWABLE_ROLES = (Role.writer, Role.admin)


def get_user(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound("No such user.", details={"user_id": user_id})
    return user


def _insert_once(session: Session, row: Follow | Block) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        pass  # the same follow or block already exists: nothing to do


def follow(session: Session, follower: User, target_id: str) -> User:
    target = get_user(session, target_id)
    if target.id == follower.id:
        raise InvalidRequest("You cannot follow yourself.", details={"user_id": target_id})
    if target.role not in FOLLOWABLE_ROLES:
        raise InvalidRequest("Only writers can be followed.",
                         details={"user_id": target_id, "role": target.role.value})
    if session.get(Block, (target.id, follower.id)) is not None:
        raise Blocked("This writer has blocked you.", details={"user_id": target_id})
    if session.get(Follow, (follower.id, target.id)) is None:
        _insert_once(session, Follow(follower_id=follower.id, followee_id=target.id))
    return target


def unfollow(session: Session, follower: User, target_id: str) -> None:
    session.execute(delete(Follow).where(Follow.follower_id == follower.id, Follow.followee_id == target_id))


def block(session: Session, blocker: User, target_id: str) -> User:
    target = get_user(session, target_id)
    if target.id == blocker.id:
        raise InvalidRequest("You cannot block yourself.", details={"user_id": target_id})
    if session.get(Block, (blocker.id, target.id)) is None:
        _insert_once(session, Block(blocker_id=blocker.id, blocked_id=target.id))
    session.execute(delete(Follow).where(or_(
        (Follow.follower_id == blocker.id) & (Follow.followee_id == target.id),
        (Follow.follower_id == target.id) & (Follow.followee_id == blocker.id),
    )))
    return target


def unblock(session: Session, blocker: User, target_id: str) -> None:
    session.execute(delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == target_id))


def following(session: Session, user: User) -> list[User]:
    return list(session.scalars(
        select(User).join(Follow, Follow.followee_id == User.id).where(Follow.follower_id == user.id)
        .order_by(Follow.created_at.desc())
    ))


def followers(session: Session, user: User) -> list[User]:
    return list(session.scalars(
        select(User).join(Follow, Follow.follower_id == User.id).where(Follow.followee_id == user.id)
        .order_by(Follow.created_at.desc())
    ))


def blocked_users(session: Session, user: User) -> list[User]:
    return list(session.scalars(
        select(User).join(Block, Block.blocked_id == User.id).where(Block.blocker_id == user.id)
        .order_by(Block.created_at.desc())
    ))


def blocked_ids(session: Session, blocker_id: str) -> set[str]:
    return set(session.scalars(select(Block.blocked_id).where(Block.blocker_id == blocker_id)))
