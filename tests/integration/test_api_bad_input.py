"""Bad input: a clear 4xx with a reason, never a 500, and nothing in the store changes."""


from tests.factories import policy_body


def store_state(api, room):
    items = api.get("/api/v1/items?limit=500", headers=room.auth("admin")).json()
    audit = api.get("/api/v1/audit", headers=room.auth("admin")).json()
    return [(i["id"], i["status"], i["revision"]) for i in items], len(audit)


def problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["detail"]
    return body


def test_missing_or_wrong_token_is_401(api, room):
    problem(api.get("/api/v1/items"), 401)
    problem(api.get("/api/v1/items", headers={"Authorization": "Bearer nope"}), 401)


def test_unknown_fields_and_wrong_types(api, room):
    before = store_state(api, room)
    body = problem(api.post("/api/v1/items", json=policy_body(colour="red"), headers=room.auth("editor")), 422)
    assert "colour" in body["detail"]
    body = problem(api.post("/api/v1/items", json=policy_body(kind="gossip"), headers=room.auth("editor")), 422)
    assert "kind" in body["detail"]
    problem(api.post("/api/v1/items", json=policy_body(keywords="not a list"), headers=room.auth("editor")), 422)
    problem(api.post("/api/v1/items", json=policy_body(written_date="2019-13-45"), headers=room.auth("editor")), 422)
    assert store_state(api, room) == before


def test_oversize_body_is_413(api, room, settings):
    before = store_state(api, room)
    huge = "<p>" + "政" * (settings.max_body_bytes // 3 + 50_000) + "</p>"
    problem(api.post("/api/v1/items", json=policy_body(body=huge), headers=room.auth("editor")), 413)
    assert store_state(api, room) == before


def test_invalid_utf8_and_malformed_json_are_400(api, room):
    before = store_state(api, room)
    headers = room.auth("editor") | {"Content-Type": "application/json"}
    body = problem(api.post("/api/v1/items", content=b'{"title": "\xff\xfe", "body": "x", "kind": "news"}',
                            headers=headers), 400)
    assert "UTF-8" in body["detail"]
    problem(api.post("/api/v1/items", content=b'{"title": ', headers=headers), 400)
    assert store_state(api, room) == before


def test_unknown_item_is_404(api, room):
    problem(api.get("/api/v1/items/9999", headers=room.auth("editor")), 404)
    problem(api.post("/api/v1/items/9999/submit", headers=room.auth("editor")), 404)
    problem(api.post("/api/v1/items/9999/reviews", json={"decision": "approve"}, headers=room.auth("reviewer1")), 404)


def test_steps_out_of_order_are_409_and_change_nothing(api, room):
    item = api.post("/api/v1/items", json=policy_body(), headers=room.auth("editor")).json()
    before = store_state(api, room)
    body = problem(api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"},
                            headers=room.auth("reviewer1")), 409)
    assert "submit it first" in body["detail"]
    assert store_state(api, room) == before
    api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))
    problem(api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor")), 409)
    for who in ("reviewer1", "reviewer2", "signer"):
        api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"}, headers=room.auth(who))
    before = store_state(api, room)
    problem(api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"},
                     headers=room.auth("signer2")), 409)
    assert store_state(api, room) == before


def test_review_decision_must_be_known(api, room):
    item = api.post("/api/v1/items", json=policy_body(), headers=room.auth("editor")).json()
    api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))
    problem(api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "maybe"},
                     headers=room.auth("reviewer1")), 422)
    problem(api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "reject"},
                     headers=room.auth("reviewer1")), 422)


def test_unknown_media_reference_is_refused(api, room):
    body = problem(api.post("/api/v1/items", json=policy_body(cover="a" * 64), headers=room.auth("editor")), 422)
    assert "upload images" in body["detail"]


def test_media_upload_checks_the_bytes(api, room):
    import io

    from PIL import Image

    problem(api.post("/api/v1/media", files={"file": ("x.jpg", b"not an image", "image/jpeg")},
                     headers=room.auth("editor")), 422)
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    r = api.post("/api/v1/media", files={"file": ("红色.png", buf.getvalue(), "image/png")}, headers=room.auth("editor"))
    assert r.status_code == 201 and r.json()["width"] == 64 and r.json()["mime"] == "image/png"
    assert api.get(r.json()["url"]).content == buf.getvalue()


def test_only_admins_add_units(api, room):
    problem(api.post("/api/v1/units", json={"code": "nanan", "name": "南岸区"}, headers=room.auth("editor")), 403)
    r = api.post("/api/v1/units", json={"code": "nanan", "name": "南岸区", "parent": "cq"}, headers=room.auth("admin"))
    assert r.status_code == 201 and r.json()["parent"] == "cq"
    problem(api.post("/api/v1/units", json={"code": "nanan", "name": "南岸区"}, headers=room.auth("admin")), 409)
