"""The official account's followers (关注者): each subscribe and unsubscribe, recorded on `WeChatUser`."""

from __future__ import annotations

from datetime import datetime

from models import WeChatUser


class Followers:
    async def record_subscription(self, openid: str, *, subscribed: bool, now: datetime) -> None:
        """A subscribe or unsubscribe event: the follower's state and when it changed."""
        stamp = {"subscribed_at": now} if subscribed else {"unsubscribed_at": now}
        await WeChatUser.update_or_create(defaults={"subscribed": subscribed, **stamp}, openid=openid)
