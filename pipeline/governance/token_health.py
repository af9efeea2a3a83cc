"""Token health and the registry's word on every delivery.

Every connector is wrapped in `GuardedConnector` (`pipeline.distribution.channels.build_connectors`):

- a target that is not active refuses publications and corrections with a clear reason (a
  suspended one may still have items taken down; a closed one nothing);
- a permanent authorisation failure (an expired or revoked Weibo token, a reset WeChat app secret,
  a webhook receiver refusing our signature) turns the account "needs reconnect" once, instead of
  every later delivery finding out by itself;
- while an account needs reconnecting, each delivery to it asks the platform one cheap question
  (Weibo `get_token_info`, WeChat `stable_token`): a token that works again clears the flag and
  the delivery goes ahead; otherwise the delivery fails at once, without posting, with the reason.
  Reconnecting (`reconnect`) stores new credentials, clears the flag and replays what failed.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlmodel import Session, select

from connectors.base import Connector, PermanentError, RetryableError
from connectors.wechat.client import CKWeChatClient
from connectors.wechat.connector import AccountConfig
from connectors.wechat.errors import to_connector_error as wechat_error
from connectors.weibo.connector import RECONNECT_CODES as WEIBO_RECONNECT_CODES
from connectors.weibo.connector import client_for
from connectors.weibo.connector import to_connector_error as weibo_error
from connectors.weibo.errors import WeiboError
from pipeline.audit import record
from pipeline.clock import aware, now
from pipeline.config import Settings
from pipeline.governance.credentials import reveal, update_secrets
from pipeline.governance.lifecycle import publishing_refusal
from pipeline.store.db import read_scope, session_scope
from pipeline.store.models import ChannelTarget, User
from schemas.delivery import Channel, ErrorClass, Operation, Receipt, Target
from schemas.item import ItemSnapshot

OK = "ok"
NEEDS_RECONNECT = "needs_reconnect"

# permanent errors that only new credentials fix, by channel (the connectors' `code` values)
RECONNECT_CODES: dict[str, frozenset] = {
    Channel.wechat: frozenset({40013, 40125, 41002, 41004}),  # invalid/missing appid or app secret
    Channel.weibo: frozenset(WEIBO_RECONNECT_CODES),  # 21301, 21314–21319, 21327 expired, 21332 revoked
    Channel.appfeed: frozenset({401, 403}),  # the app's webhook receiver refuses our signature
}

T = TypeVar("T")


class NeedsReconnect(PermanentError):
    """The account's credentials no longer work: nothing is posted until it is reconnected."""


class TargetNotActive(PermanentError):
    """The registry says this target does not receive items now."""


def auth_failure(channel: str, error: Exception) -> str | None:
    """The reason to mark the account "needs reconnect" when `error` says its credentials are dead."""
    if getattr(error, "error_class", None) != ErrorClass.permanent:
        return None
    code = getattr(error, "code", None)
    if code is None or code not in RECONNECT_CODES.get(channel, frozenset()):
        return None
    return f"{error}"[:1000]


def probe(channel: str, target: Target) -> tuple[bool | None, str]:
    """One cheap authorised call: (True, …) when the credentials work, (False, why) when the platform
    refuses them, (None, why) when it cannot tell (unreachable, or a channel without such a call)."""
    try:
        if channel == Channel.weibo:
            try:
                with client_for(target) as client:
                    client.token_info()
            except WeiboError as exc:
                raise weibo_error(exc, effectful=False, account=target.code) from exc
            return True, "get_token_info answered"
        if channel == Channel.wechat:
            config = AccountConfig.from_target(target)
            client = CKWeChatClient(config.appid, config.secret, api_base_url=config.api_base_url,
                                    timeout=config.timeout)
            try:
                client.fetch_access_token()
            except Exception as exc:
                raise wechat_error(exc, action="stable_token", effectful=False) from exc
            return True, "stable_token answered"
    except PermanentError as exc:
        return False, str(exc)[:1000]
    except (RetryableError, OSError) as exc:
        return None, str(exc)[:1000]
    return None, f"no token check for {channel}"


def _registry_view(code: str) -> tuple[str, str, str | None, datetime | None] | None:
    with read_scope() as session:
        row = session.exec(select(ChannelTarget).where(ChannelTarget.code == code)).first()
        return None if row is None else (row.status, row.health, row.health_reason, aware(row.health_since))


def mark_needs_reconnect(session: Session, row: ChannelTarget, reason: str) -> bool:
    """Flag the account; True when it was healthy until now (recorded in the audit log once)."""
    if row.health == NEEDS_RECONNECT:
        return False
    row.health, row.health_reason, row.health_since = NEEDS_RECONNECT, reason, now()
    session.add(row)
    record(session, None, "target.needs_reconnect", code=row.code, reason=reason)
    return True


def mark_healthy(session: Session, row: ChannelTarget, actor: User | None, via: str) -> bool:
    if row.health == OK:
        return False
    since = aware(row.health_since)
    row.health, row.health_reason, row.health_since = OK, None, None
    session.add(row)
    record(session, actor, "target.reconnected", code=row.code, via=via,
           since=since.isoformat() if since else None)
    return True


def _set_health(code: str, change: Callable[[Session, ChannelTarget], Any]) -> None:
    with session_scope() as session:
        row = session.exec(select(ChannelTarget).where(ChannelTarget.code == code).with_for_update()).first()
        if row is not None:
            change(session, row)


class GuardedConnector:
    """A connector behind the registry: status, token health, and auth failures noticed once."""

    def __init__(self, inner: Connector):
        self.inner = inner
        self.channel = inner.channel

    def render(self, item: ItemSnapshot, target: Target) -> Any:
        return self.inner.render(item, target)

    def publish(self, item: ItemSnapshot, target: Target) -> Receipt:
        return self._guard(Operation.publish, target, lambda: self.inner.publish(item, target))

    def correct(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        return self._guard(Operation.correct, target, lambda: self.inner.correct(item, target, previous))

    def take_down(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        return self._guard(Operation.takedown, target, lambda: self.inner.take_down(item, target, previous))

    def verify(self, item: ItemSnapshot, target: Target, previous: Receipt | None) -> Receipt | None:
        return self._guard(None, target, lambda: self.inner.verify(item, target, previous))

    def classify(self, error: Exception) -> ErrorClass:
        if isinstance(error, NeedsReconnect | TargetNotActive):
            return ErrorClass.permanent
        return self.inner.classify(error)

    def _guard(self, operation: Operation | None, target: Target, call: Callable[[], T]) -> T:
        view = target.registry or _registry_view(target.code)
        if view is not None:
            status, health, reason, since = view
            refusal = publishing_refusal(target.code, status, operation.value) if operation else None
            if refusal:
                raise TargetNotActive(refusal, code=f"target_{status}")
            if health == NEEDS_RECONNECT:
                if probe(self.channel, target)[0] is not True:
                    when = since.isoformat(timespec="seconds") if since else "?"
                    raise NeedsReconnect(
                        f"account {target.code} needs reconnect (since {when}: {reason}); nothing was posted. "
                        "Reconnect it in the registry and its held deliveries are replayed", code=NEEDS_RECONNECT)
                _set_health(target.code, lambda s, row: mark_healthy(s, row, None, "probe"))
        try:
            return call()
        except Exception as exc:
            why = auth_failure(self.channel, self._ranked(exc))
            if why:
                _set_health(target.code, lambda s, row: mark_needs_reconnect(s, row, why))
            raise

    def _ranked(self, error: Exception) -> Exception:
        """The error as our error tree sees it (a connector may let its client's own type through)."""
        if getattr(error, "error_class", None) is not None or self.inner.classify(error) != ErrorClass.permanent:
            return error
        return PermanentError(str(error), code=getattr(error, "code", None) or getattr(error, "errcode", None))


def check_tokens(settings: Settings) -> dict[str, tuple[str, str]]:
    """Ask every active WeChat and Weibo account whether its credentials still work, and flag or
    clear it (`ck targets check-tokens`). Platform calls run outside any transaction.
    Returns code → (ok · needs_reconnect · unknown, what the platform said)."""
    with session_scope() as session:
        rows = [(r.code, r.channel, r.name, reveal(r, settings)) for r in session.exec(
            select(ChannelTarget).where(ChannelTarget.status == "active",
                                        ChannelTarget.channel.in_([Channel.wechat.value, Channel.weibo.value]))
            .order_by(ChannelTarget.code))]
    results = {}
    for code, channel, name, config in rows:
        works, detail = probe(channel, Target(channel=channel, code=code, name=name, config=config))
        if works is True:
            _set_health(code, lambda s, row: mark_healthy(s, row, None, "check"))
        elif works is False:
            _set_health(code, lambda s, row, why=f"token check: {detail}": mark_needs_reconnect(s, row, why))
        results[code] = ({True: OK, False: NEEDS_RECONNECT}.get(works, "unknown"), detail)
    return results


def needing_reconnect(session: Session) -> list[ChannelTarget]:
    """Accounts flagged "needs reconnect" (the console and /metrics show them)."""
    return list(session.exec(select(ChannelTarget).where(ChannelTarget.health == NEEDS_RECONNECT)
                             .order_by(ChannelTarget.code)))


def reconnect(session: Session, actor: User, row: ChannelTarget, credentials: dict, settings: Settings) -> list[int]:
    """New credentials (merged into the sealed ones), the flag cleared, and every delivery to the
    target that failed since it was flagged replayed. Returns the replayed delivery ids."""
    from pipeline.distribution.replay import ReplayFilter, replay
    from schemas.delivery import DeliveryState

    since = aware(row.health_since)
    if credentials:
        update_secrets(row, credentials, settings)
        session.add(row)
        record(session, actor, "target.credentials", code=row.code, changed=sorted(credentials))
    mark_healthy(session, row, actor, "reconnect")
    session.flush()
    if since is None:
        return []
    summary = replay(session, actor, ReplayFilter(states=[DeliveryState.failed.value, DeliveryState.dead.value],
                                                  target=row.code, since=since), settings)
    return summary.deliveries
