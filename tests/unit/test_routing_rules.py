from pipeline.distribution.routing import operations_for
from schemas.delivery import Operation


class _Event:
    """operations_for reads only type and only_targets."""

    def __init__(self, type, only_targets=None):
        self.type, self.only_targets = Operation(type), only_targets


WANTED = {"cq-portal": "portal", "cq-wechat": "wechat", "cq-weibo": "weibo", "cq-feed": "appfeed"}


def test_publish_goes_to_every_wanted_target():
    plan = operations_for(_Event("publish"), WANTED, {})
    assert plan == {code: (ch, Operation.publish) for code, ch in WANTED.items()}


def test_a_correction_reaches_every_holder_and_publishes_where_new():
    held = {"cq-portal": "portal", "old-weibo": "weibo"}
    plan = operations_for(_Event("correct"), {"cq-portal": "portal", "cq-feed": "appfeed"}, held)
    assert plan == {"cq-portal": ("portal", Operation.correct), "old-weibo": ("weibo", Operation.correct),
                    "cq-feed": ("appfeed", Operation.publish)}


def test_a_takedown_reaches_holders_only():
    plan = operations_for(_Event("takedown"), WANTED, {"cq-wechat": "wechat"})
    assert plan == {"cq-wechat": ("wechat", Operation.takedown)}


def test_replay_can_be_limited_to_some_targets():
    plan = operations_for(_Event("publish", only_targets=["cq-wechat"]), WANTED, {})
    assert list(plan) == ["cq-wechat"]

