"""A faithful WeChat Official Accounts server for loopback tests and the demo (PLATFORMS.md §1.7).

    app = create_app({"wx_appid": "secret"})          # or create_app(EmulatorConfig(...))
    with ServerThread(app) as server:                # connectors.sandbox.server
        client = CKWeChatClient("wx_appid", "secret", api_base_url=server.url + "/cgi-bin/")

WeChat endpoints (HTTP 200 + errcode/errmsg "… rid: <hex>", JSON read without a Content-Type):
`GET token`, `POST stable_token`, `POST material/add_material` (type image|thumb, multipart
`media`), `POST media/uploadimg`, `draft/add|get|update|delete|batchget`, `GET draft/count`,
`freepublish/submit|get|delete|getarticle|batchget`, all under `/cgi-bin/`.

Controls, the same shape across our emulators:

- `GET  /_sandbox/posts[?appid=]`  every published article (appid, article_id, publish_id, idx,
  title, author, digest, content, content_source_url, url, published_at, deleted), oldest first;
- `POST /_sandbox/faults`  replace the fault settings and return them: `{"error_rate", "codes",
  "http_500_rate", "latency_ms", "timeout_after_effect_rate", "stall_ms", "only_paths" (alias
  "endpoints"), "seed", "next_n", "expire_tokens", "publish_delay_ms", "publish_outcome"}`, all
  optional (see `faults.py`); `GET` shows them;
- `GET  /_sandbox/requests[?path=]`  every API call seen (method, path, appid, http_status,
  errcode, fault, warning), so tests can count token fetches and retries;
- `POST /_sandbox/reset`  forget all state and faults (accounts stay).
"""

from connectors.wechat.emulator.app import create_app
from connectors.wechat.emulator.state import EmulatorConfig

__all__ = ["EmulatorConfig", "create_app"]
