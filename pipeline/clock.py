"""Time in one place: aware UTC for storage, the newsroom's zone (+08:00) for display and URLs."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

NEWSROOM_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(dt: datetime | None) -> datetime | None:
    """Databases such as SQLite hand back naive datetimes; ours are always UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def local(dt: datetime) -> datetime:
    return aware(dt).astimezone(NEWSROOM_TZ)
