"""Tortoise-orm models and the pure rules on them."""

from models.acceptance_point import AcceptancePoint
from models.account import Account, AccountKind, Binding, TrustedWeChatUser, Unit
from models.records import (
    Permit,
    ResidenceRegistration,
    SocialInsuranceMonth,
    Source,
    StudentRecord,
    TalentRecord,
)
from models.submission import Submission
from models.wechat_user import WeChatUser

__all__ = [
    "AcceptancePoint",
    "Account",
    "AccountKind",
    "Binding",
    "Permit",
    "ResidenceRegistration",
    "SocialInsuranceMonth",
    "Source",
    "StudentRecord",
    "Submission",
    "TalentRecord",
    "TrustedWeChatUser",
    "Unit",
    "WeChatUser",
]
