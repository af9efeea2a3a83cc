"""The one settings object. Every value comes from a `CK_*` environment variable (see README)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CK_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./central-kitchen.db"
    data_dir: Path = Path("./var")
    public_base_url: str = "http://127.0.0.1:8000"
    review_levels: int = Field(3, ge=1, le=5)
    max_body_bytes: int = 2 * 1024 * 1024
    sensitive_words_file: Path | None = None
    link_allowlist: str = "gov.cn,127.0.0.1,localhost"
    kafka_bootstrap: str | None = None
    kafka_partitions: int = 6
    kafka_topic_prefix: str = ""
    max_attempts: int = Field(6, ge=1)
    retry_base_seconds: float = 1.0
    retry_cap_seconds: float = 300.0
    retry_after_cap_seconds: float | None = None  # cap a platform's own Retry-After (tests, impatient sites)
    remote_poll_seconds: float = 3.0  # how soon to ask again about a platform job still running
    relay_batch: int = 500
    deliver_batch: int = Field(16, ge=1)  # deliveries one channel agent runs at once (1: one after another)
    relay_idle_seconds: float = 0.05
    # Governance (README "Governance"): protected credentials, the account registry, freshness and rescans.
    secret_key: SecretStr | None = None  # Fernet key(s), comma-separated, newest first; else secret_key_file
    secret_key_file: Path | None = None  # default <data_dir>/keys/secret.key, created on first use
    accounts_per_platform: int = Field(1, ge=0)  # per unit and platform; 0: no limit
    account_limit_channels: str = "wechat,weibo,appfeed"  # the platforms that limit applies to
    freshness_site_days: int = Field(1, ge=1)  # a portal site publishes at least once in this many days
    freshness_account_per_week: int = Field(3, ge=0)  # a new-media account publishes this often a week
    freshness_zombie_days: int = Field(14, ge=1)  # nothing at all for this long: 僵尸, not just 睡眠
    freshness_column_days: int = Field(14, ge=1)  # a column's default period (site config column_periods)
    rescan_interval_hours: float = Field(24.0, gt=0)  # rescan published items at least this often
    rescan_check_seconds: float = Field(60.0, gt=0)  # how often the router checks the dictionary and the clock
    timezone: str = "Asia/Shanghai"
    # Operations (deploy/README.md): replication of topics the kitchen creates itself, the
    # /metrics /healthz /readyz endpoint of `ck worker` and `ck relay`, and the log format.
    kafka_replication: int = Field(1, ge=1)
    metrics_port: int | None = None  # unset: workers serve no HTTP endpoint (the API always has one)
    metrics_host: str = "127.0.0.1"
    health_stall_seconds: float = 30.0  # a worker whose event loop has not ticked for this long is not alive
    log_format: Literal["auto", "json", "text"] = "auto"  # auto: JSON unless logging to a terminal

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def sites_dir(self) -> Path:
        return self.data_dir / "sites"

    @property
    def feeds_dir(self) -> Path:
        return self.data_dir / "feeds"

    @property
    def allowed_link_domains(self) -> list[str]:
        """The configured allowlist plus the kitchen's own host (links to our own portal pages)."""
        own = urlsplit(self.public_base_url).hostname
        listed = [d.strip().lower() for d in self.link_allowlist.split(",") if d.strip()]
        return listed + ([own] if own and own not in listed else [])


@lru_cache
def get_settings() -> Settings:
    return Settings()
