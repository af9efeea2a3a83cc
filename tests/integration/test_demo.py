"""`ck demo --exit --json`, the main job, run as a user runs it (in a fresh folder)."""

import json
import os
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.kafka


def test_the_demo_delivers_every_item_to_every_channel(kafka_bootstrap, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CK_")}
    env |= {"CK_KAFKA_BOOTSTRAP": kafka_bootstrap, "CK_KAFKA_TOPIC_PREFIX": f"demo{uuid.uuid4().hex[:6]}."}
    result = subprocess.run([sys.executable, "-m", "pipeline.cli.main", "demo", "--exit", "--json", "--port", "18765"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout)  # stdout is only the JSON; progress went to stderr
    titles = [i["title"] for i in outcome["items"]]
    assert len(titles) == 4 and any("渝府办发" in t or "政府网站" in t for t in titles)
    for item in outcome["items"]:
        assert item["status"] == "published"
        channels = {d["channel"] for d in item["deliveries"]}
        assert channels == {"portal", "wechat", "weibo", "appfeed"}, item
        assert all(d["state"] == "succeeded" and d["url"] for d in item["deliveries"]), item
        assert set(item["deliveries"][0]) == {"channel", "target", "operation", "state", "external_id", "url"}
    portal_urls = [d["url"] for i in outcome["items"] for d in i["deliveries"] if d["channel"] == "portal"]
    assert all(u.startswith("http://127.0.0.1:18765/sites/") for u in portal_urls)
    assert (tmp_path / "var" / "demo" / "central-kitchen.db").is_file()
