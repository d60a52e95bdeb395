"""Settings: config.yaml, overridden by RB_<SECTION>__<KEY> environment variables.

A bad value stops start-up with one line naming the key and the problem (`ConfigError`).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from models.rules import EndorsementConvention, Rules

DEFAULT_PATH = Path("config.yaml")
# The key config.yaml ships with, for development only.
DEVELOPMENT_FIELD_KEY = "ZGV2ZWxvcG1lbnQta2V5LS1ub3QtZm9yLXByb2QhISE="
# config.yaml's WeChat token and EncodingAESKey: anyone who has them can sign (and read) callbacks.
DEVELOPMENT_WECHAT_TOKEN = "devtoken123"
DEVELOPMENT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
# The AppSecret of `residence-bot dev-wechat`, the local stand-in for WeChat's servers.
DEV_APP_SECRET = "devsecret0not0for0production0000"
# The receipt-link signing key config.yaml ships with, for development only.
DEVELOPMENT_SIGNING_KEY = "development-receipt-signing-key--not-for-production"
# The rules' defaults, defined once in models/rules.py.
_RULES = Rules()


class ConfigError(Exception):
    """One line for the operator: which key, what is wrong."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_base_url: str = "http://127.0.0.1:8080"
    reply_budget_s: float = Field(4.0, gt=0, lt=5)
    max_body_bytes: int = Field(64 * 1024, gt=0)


class TemplatesConfig(Section):
    """Template-message ids (模板消息, from the account's console), one per kind of push; an empty
    id sends nothing of that kind (the outbox marks such pushes skipped)."""

    application_status: str = ""
    endorsement_reminder: str = ""


class WeChatConfig(Section):
    app_id: str = ""
    app_secret: str = ""
    token: str
    encoding_aes_key: str = ""
    previous_encoding_aes_key: str = ""
    mode: Literal["plain", "compat", "safe"] = "plain"
    api_base_url: str = "https://api.weixin.qq.com"
    original_id: str = ""
    max_clock_skew_s: int = Field(300, ge=0)
    templates: TemplatesConfig = TemplatesConfig()

    @field_validator("token")
    @classmethod
    def _token(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9]{3,32}", v):
            raise ValueError("must be 3-32 letters or digits, as in the WeChat console")
        return v

    @field_validator("encoding_aes_key", "previous_encoding_aes_key")
    @classmethod
    def _aes_key(cls, v: str) -> str:
        if v and not re.fullmatch(r"[A-Za-z0-9]{43}", v):
            raise ValueError("must be exactly 43 letters or digits, as in the WeChat console")
        return v


class DatabaseConfig(Section):
    url: str = "sqlite://var/residence.sqlite3"

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if not v.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return v


class RedisConfig(Section):
    url: str = ""

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if v and not v.startswith(("redis://", "rediss://", "unix://", "redis+sentinel://")):
            raise ValueError("must be empty (in-memory state) or start with redis:// or redis+sentinel://")
        sentinel_url(v)  # a malformed Sentinel URL stops start-up here, not at the first message
        return v


@dataclass(frozen=True, slots=True)
class SentinelURL:
    """`redis+sentinel://[[username]:password@]host[:port][,host[:port]…]/master-name[/db]`: the
    master that the listed sentinels name (port 26379 unless given). redis-py has no URL form for
    Sentinel; this is the one kombu and others read. The password is the Redis servers' (master
    and replicas); the sentinels are asked without one."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None


_SENTINEL_HOST = re.compile(r"\[(?P<v6>[^\]]+)\](?::(?P<v6port>\d+))?|(?P<host>[^:\[\]]+)(?::(?P<port>\d+))?")


def sentinel_url(url: str) -> SentinelURL | None:
    """The parts of a redis+sentinel:// URL, None for any other URL; ValueError when malformed."""
    if not url.startswith("redis+sentinel://"):
        return None
    parts = urlsplit(url)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    sentinels = []
    for host in hosts.split(","):
        match = _SENTINEL_HOST.fullmatch(host)
        if match is None:
            raise ValueError(f"a Sentinel URL lists sentinels as host:port,host:port; {host!r} is not one")
        port = match["v6port"] or match["port"]
        sentinels.append((match["v6"] or match["host"], int(port) if port else 26379))
    path = parts.path.strip("/").split("/")
    if not path[0] or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()) or parts.query:
        raise ValueError("a Sentinel URL ends with /master-name or /master-name/db (a number), and no query")
    username, _, password = userinfo.partition(":")
    return SentinelURL(
        sentinels=tuple(sentinels),
        master=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(username) or None,
        password=unquote(password) or None,
    )


class StateConfig(Section):
    # Not a choice: redis.url alone selects the store (Settings.state_backend). Older configs may
    # still say which one they mean; they start only if it is the one the url selects.
    backend: Literal["memory", "redis"] | None = None
    idle_timeout_minutes: int = Field(30, gt=0)
    dedup_ttl_s: int = Field(300, gt=0)
    lock_timeout_s: float = Field(10.0, gt=0)


class LimitsConfig(Section):
    # Messages and menu clicks of one WeChat user handled a minute, every process together (0: no
    # limit). Past it one notice, then no reply until the minute is over (bot/dispatch.py).
    messages_per_user_per_minute: int = Field(60, ge=0)


class AppConfig(Section):
    # development: SMS codes appear in the log (provider log), and the shipped keys, local real-name
    # checks and the WeChat stand-in are allowed, but only for a bot on loopback (Settings checks it).
    # production: none of them, wherever the bot serves.
    environment: Literal["development", "production"] = "development"


class SmsHttpConfig(Section):
    url: str = ""
    timeout_s: float = Field(5.0, gt=0)


class SmsConfig(Section):
    provider: Literal["log", "http"] = "log"
    http: SmsHttpConfig = SmsHttpConfig()
    code_ttl_s: int = Field(300, ge=30)
    max_per_phone_per_hour: int = Field(5, ge=1)
    max_per_user_per_hour: int = Field(10, ge=1)
    max_numbers_per_user_per_hour: int = Field(3, ge=1)
    max_per_minute: int = Field(60, ge=1)
    max_wrong_entries: int = Field(5, ge=1)


class RealnameHttpConfig(Section):
    url: str = ""
    timeout_s: float = Field(10.0, gt=0)


class RealnameConfig(Section):
    provider: Literal["local", "http"] = "local"
    http: RealnameHttpConfig = RealnameHttpConfig()
    photo_dir: Path = Path("var/realname-photos")


class AccountsConfig(Section):
    max_wrong_passwords: int = Field(5, ge=1)
    lockout_minutes: int = Field(15, ge=1)
    # Password checks one WeChat user gets a minute, whichever accounts they try.
    max_password_tries_per_user_per_minute: int = Field(5, ge=1)


class AdminConfig(Section):
    token: str = ""  # empty: the admin API refuses every request

    @field_validator("token")
    @classmethod
    def _long_enough(cls, v: str) -> str:
        if v and len(v) < 16:
            raise ValueError("must be at least 16 characters (or empty to turn the admin API off)")
        return v


class SecurityConfig(Section):
    field_key: str  # urlsafe base64 of 32 random bytes

    @field_validator("field_key")
    @classmethod
    def _key(cls, v: str) -> str:
        import base64
        import binascii

        try:
            raw = base64.urlsafe_b64decode(v.encode())
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ValueError(
                "must be urlsafe base64 of 32 bytes (python -c 'import secrets,base64;"
                "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')"
            )
        return v


class ReceiptsConfig(Section):
    signing_key: str = Field(DEVELOPMENT_SIGNING_KEY, min_length=32)  # HMAC key of receipt links
    # The key before the last change: links it signed still open (until they expire); new ones use signing_key.
    previous_signing_key: str = ""
    link_ttl_days: int = Field(30, ge=1)  # a receipt link opens for this many days
    font_path: Path | None = None  # a TrueType (TTF/TTC) font with CJK glyphs; None: found among installed fonts
    storage_dir: Path = Path("var/receipts")  # rendered PDFs, kept once made

    @field_validator("previous_signing_key")
    @classmethod
    def _previous_key(cls, v: str) -> str:
        if v and len(v) < 32:
            raise ValueError("must be at least 32 characters (or empty when no links of an older key are open)")
        return v

    @field_validator("font_path", mode="before")
    @classmethod
    def _no_font_given(cls, v: object) -> object:
        return None if v in ("", None) else v


class ApplicationsConfig(Section):
    max_batch_size: int = Field(50, ge=1, le=500)  # people in one 代办 batch


class PushesConfig(Section):
    """The outbox sender (SPEC §6): every process that sends shares these."""

    lease_s: int = Field(120, ge=10, le=540)  # a claimed row is due again after this (under WeChat's 10-minute dedup)
    max_attempts: int = Field(8, ge=1)  # transient failures before a push is given up as failed
    backoff_s: float = Field(5.0, gt=0)  # first retry after this, doubling each time
    batch_size: int = Field(50, ge=1)  # rows one sender claims per round
    scan_interval_s: float = Field(30.0, gt=0)  # the sender looks for due rows at least this often


class RemindersConfig(Section):
    """Endorsement reminders (SPEC §6): when the daily scan runs, which days it reminds on, how they go out."""

    days_before_deadline: list[int] = Field([30, 7, 1], max_length=10)  # before the window's last day
    send_hour: int = Field(9, ge=0, le=23)  # Shenzhen time: the daily scan runs then, and its reminders go out
    # Shenzhen time, "HH:MM-HH:MM" (may pass midnight; "" for none): a push due inside waits for their end.
    quiet_hours: str = "21:00-08:00"
    rate_per_second: int = Field(20, ge=1)  # sends a second of every push, all senders together
    channel: Literal["template", "subscribe"] = "template"

    @field_validator("days_before_deadline")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if any(day < 0 for day in v):
            raise ValueError("days must be 0 or more")
        return sorted(set(v), reverse=True)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        if v and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", v):
            raise ValueError('must be "HH:MM-HH:MM" (Shenzhen time), or "" for none')
        return v


class RulesConfig(Section):
    """config.yaml's `rules:`, checked: the fields of models/rules.py `Rules`, where each is explained."""

    registration_months: int = Field(_RULES.registration_months, ge=1)
    registration_gap_days: int = Field(_RULES.registration_gap_days, ge=0)
    social_insurance_consecutive_months: int = Field(_RULES.social_insurance_consecutive_months, ge=1)
    social_insurance_cumulative_months: int = Field(_RULES.social_insurance_cumulative_months, ge=1)
    social_insurance_lookback_months: int = Field(_RULES.social_insurance_lookback_months, ge=1)
    current_month_counts: bool = _RULES.current_month_counts
    period_met_day_after: bool = _RULES.period_met_day_after
    endorsement_window_days: int = Field(_RULES.endorsement_window_days, ge=1)
    endorsement_convention: EndorsementConvention = _RULES.endorsement_convention
    endorsement_min_months: int = Field(_RULES.endorsement_min_months, ge=1)
    endorsement_lookback_months: int = Field(_RULES.endorsement_lookback_months, ge=1)
    cancellation_years: int = Field(_RULES.cancellation_years, ge=1)

    def as_rules(self) -> Rules:
        return Rules(**self.model_dump())


class DataConfig(Section):
    acceptance_points: Path = Path("data/acceptance_points.example.yaml")


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"  # json: one object a line, for a log collector (bot/logs.py)


class HelpConfig(Section):
    """What 帮助 tells residents who want a person: the official hotline and when it answers."""

    hotline: str = Field("12345", min_length=1)
    hours: str = Field("24小时", min_length=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RB_", env_nested_delimiter="__", extra="forbid")

    server: ServerConfig = ServerConfig()
    wechat: WeChatConfig
    database: DatabaseConfig = DatabaseConfig()
    redis: RedisConfig = RedisConfig()
    state: StateConfig = StateConfig()
    limits: LimitsConfig = LimitsConfig()
    app: AppConfig = AppConfig()
    sms: SmsConfig = SmsConfig()
    realname: RealnameConfig = RealnameConfig()
    accounts: AccountsConfig = AccountsConfig()
    admin: AdminConfig = AdminConfig()
    security: SecurityConfig
    receipts: ReceiptsConfig = ReceiptsConfig()
    applications: ApplicationsConfig = ApplicationsConfig()
    pushes: PushesConfig = PushesConfig()
    reminders: RemindersConfig = RemindersConfig()
    rules: RulesConfig = RulesConfig()
    data: DataConfig = DataConfig()
    help: HelpConfig = HelpConfig()
    logging: LoggingConfig = LoggingConfig()

    @model_validator(mode="after")
    def _development_only_on_loopback(self) -> Settings:
        """Development settings run only on loopback; production refuses them wherever it serves.

        Raises ConfigError (not a ValueError, which pydantic would fold into one line) with a line
        for each setting to change.
        """
        refused = _development_settings(self)
        if self.app.environment == "development":
            if _on_loopback(self.server):
                return self
            where = f'server.host "{self.server.host}", server.public_base_url "{self.server.public_base_url}"'
            refused.insert(
                0,
                'config: app.environment: "development" logs SMS codes and allows the shipped keys, so it runs '
                f'only on loopback, not on {where}; use "production" and your own keys',
            )
        if refused:
            raise ConfigError("\n".join(refused))
        return self

    @property
    def state_backend(self) -> Literal["memory", "redis"]:
        """Shared state in Redis when redis.url is set; the embedded in-memory store when it is empty."""
        return "redis" if self.redis.url else "memory"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then RB_ variables, then the YAML file.
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls))


def _development_settings(s: Settings) -> list[str]:
    """A line for each setting that is for development only (production refuses each)."""
    found: list[str] = []
    if s.realname.provider == "local":
        found.append('config: realname.provider: "local" is for development; use "http" in production')
    if s.sms.provider == "log":
        found.append('config: sms.provider: "log" is for development; use "http" in production')
    if s.security.field_key == DEVELOPMENT_FIELD_KEY:
        found.append(
            "config: security.field_key: the shipped development key is for development; "
            "set your own (RB_SECURITY__FIELD_KEY) in production"
        )
    if DEVELOPMENT_SIGNING_KEY in (s.receipts.signing_key, s.receipts.previous_signing_key):
        found.append(
            "config: receipts.signing_key: the shipped development key is for development; "
            "set your own (RB_RECEIPTS__SIGNING_KEY) in production"
        )
    if s.wechat.token == DEVELOPMENT_WECHAT_TOKEN:
        found.append(
            "config: wechat.token: the shipped development token is for development; "
            "set the console's Token (RB_WECHAT__TOKEN) in production"
        )
    if DEVELOPMENT_AES_KEY in (s.wechat.encoding_aes_key, s.wechat.previous_encoding_aes_key):
        found.append(
            "config: wechat.encoding_aes_key: the shipped development key is for development; "
            "set the console's EncodingAESKey (RB_WECHAT__ENCODING_AES_KEY) in production"
        )
    if s.wechat.app_secret == DEV_APP_SECRET:
        found.append(
            "config: wechat.app_secret: the development WeChat stand-in's secret is for development; "
            "use the account's AppSecret (RB_WECHAT__APP_SECRET) in production"
        )
    if s.wechat.max_clock_skew_s == 0:
        found.append(
            "config: wechat.max_clock_skew_s: 0 turns the timestamp check off, so a captured callback "
            "could be replayed at any time; use a window such as 300 in production"
        )
    return found


def _on_loopback(server: ServerConfig) -> bool:
    """The bot listens on a loopback address and its links point at one."""
    try:
        link_host = urlsplit(server.public_base_url).hostname or ""
    except ValueError:
        return False
    return _loopback(server.host) and _loopback(link_host)


def _loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    return Path(explicit or os.environ.get("RB_CONFIG") or DEFAULT_PATH)


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: object) -> Settings:
    """Read the YAML file (``--config``, ``RB_CONFIG`` or ./config.yaml) and RB_ variables."""
    yaml_path = config_path(path)
    if not yaml_path.is_file():
        raise ConfigError(f"config: file {yaml_path} not found")
    config = SettingsConfigDict(**{**Settings.model_config, "yaml_file": yaml_path, "yaml_file_encoding": "utf-8"})
    source = type("FileSettings", (Settings,), {"model_config": config, "__module__": __name__})
    try:
        settings = source(**overrides)
    except ConfigError:  # Settings' own checks, a line per setting already
        raise
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
    except Exception as exc:  # YAML syntax errors and the like
        raise ConfigError(f"config: {yaml_path}: {exc}".splitlines()[0]) from None
    _check_consistency(settings)
    # Data files named in the config are found beside it, wherever the bot is started from.
    points = settings.data.acceptance_points
    if not points.is_absolute():
        settings.data.acceptance_points = (yaml_path.parent / points).resolve()
    return settings


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "is required"
    elif err["type"] == "extra_forbidden":
        msg = "is not a known setting"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"config: {key}: {msg}{more}"


def _check_consistency(s: Settings) -> None:
    if s.wechat.mode in ("compat", "safe"):
        if not s.wechat.encoding_aes_key:
            raise ConfigError(f"config: wechat.encoding_aes_key: is required in {s.wechat.mode} mode")
        if not s.wechat.app_id:
            raise ConfigError(f"config: wechat.app_id: is required in {s.wechat.mode} mode")
    # redis.url alone selects the state store; an optional state.backend must agree with it.
    if s.state.backend == "redis" and not s.redis.url:
        raise ConfigError(
            "config: state.backend: is redis but redis.url is empty; set redis.url (it alone selects Redis) "
            "and drop state.backend"
        )
    if s.state.backend == "memory" and s.redis.url:
        raise ConfigError(
            "config: state.backend: is memory but redis.url is set, which selects Redis; clear redis.url "
            "for in-memory state and drop state.backend"
        )
    if s.sms.provider == "http" and not s.sms.http.url:
        raise ConfigError("config: sms.http.url: is required when sms.provider is http")
    if s.realname.provider == "http" and not s.realname.http.url:
        raise ConfigError("config: realname.http.url: is required when realname.provider is http")
