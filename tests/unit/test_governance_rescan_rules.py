"""When a rescan of published items is due, and the charts the reports draw."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from pipeline.governance.charts import LOW_FILL, OK_FILL, bars
from pipeline.governance.rescan import is_due

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def test_a_rescan_is_due_first_when_the_dictionary_changes_and_daily():
    assert is_due({}, "abc", DAY, NOW) == "first scan"
    last = {"at": (NOW - timedelta(hours=2)).isoformat(), "dictionary": "abc"}
    assert is_due(last, "abc", DAY, NOW) is None
    assert is_due(last, "abd", DAY, NOW) == "the dictionary changed"
    assert is_due(last, "abc", DAY, NOW + timedelta(hours=22)) == "daily scan"


def test_a_bar_chart_is_valid_svg_with_weeks_below_the_rule_marked():
    svg = bars([4, 1, 3], ["11-02", "11-09", "11-16"], threshold=3, title="cq-wechat <发布>")
    root = ET.fromstring(svg)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert [r.get("fill") for r in rects] == [OK_FILL, LOW_FILL, OK_FILL]
    assert root.find("{http://www.w3.org/2000/svg}title").text == "cq-wechat <发布>"
