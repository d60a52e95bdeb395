"""Tortoise-orm models and the pure rules on them."""

from models.acceptance_point import AcceptancePoint
from models.account import Account, AccountKind, Binding, TrustedWeChatUser, Unit
from models.application import ApplicationKind, ApplicationStatus, ApplicationStatusChange, PermitApplication
from models.endorsement import Endorsement, EndorsementKind
from models.push import Push, PushState
from models.receipt import Receipt
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
    "ApplicationKind",
    "ApplicationStatus",
    "ApplicationStatusChange",
    "Binding",
    "Endorsement",
    "EndorsementKind",
    "Permit",
    "PermitApplication",
    "Push",
    "PushState",
    "Receipt",
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
