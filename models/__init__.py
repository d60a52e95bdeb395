"""Tortoise-orm models and the pure rules on them."""

from models.acceptance_point import AcceptancePoint
from models.wechat_user import WeChatUser

__all__ = ["AcceptancePoint", "WeChatUser"]
