"""The store and three-level review through the real API on a real database."""


from tests.factories import INTERPRETATION_BODY, policy_body


def create(api, room, who="editor", **overrides):
    r = api.post("/api/v1/items", json=policy_body(**overrides), headers=room.auth(who))
    assert r.status_code == 201, r.text
    return r.json()


def approve_all(api, room, item_id, people=("reviewer1", "reviewer2", "signer")):
    for who in people:
        r = api.post(f"/api/v1/items/{item_id}/reviews", json={"decision": "approve"}, headers=room.auth(who))
        assert r.status_code == 200, r.text
    return r.json()


def test_smallest_create_body_gets_defaults(api, room):
    r = api.post("/api/v1/items", json={"title": "关于开展安全生产大检查的通知", "body": "<p>各单位：请做好检查。</p>",
                                        "kind": "notice"}, headers=room.auth("editor"))
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["status"] == "draft" and item["revision"] == 1
    assert item["unit"] == "cq" and item["issuer"] == "重庆市人民政府办公厅"
    assert item["index_no"].startswith("008282882/") and len(item["index_no"]) == len("008282882/2026-00001")
    assert item["written_date"] is not None


def test_index_numbers_are_unique_per_unit_and_year(api, room):
    a = create(api, room)
    b = create(api, room, written_date="2019-07-01")
    c = create(api, room, written_date="2018-01-01")
    assert a["index_no"] == "008282882/2019-00001"
    assert b["index_no"] == "008282882/2019-00002"
    assert c["index_no"] == "008282882/2018-00001"


def test_three_levels_by_three_people_with_every_decision_recorded(api, room):
    item = create(api, room)
    r = api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))
    assert r.status_code == 200 and r.json()["status"] == "in_review" and r.json()["review_level_name"] == "初审"
    r = api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve", "comment": "事实准确"},
                 headers=room.auth("reviewer1"))
    assert r.json()["review_level"] == 2 and r.json()["review_level_name"] == "审核"
    r = api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"}, headers=room.auth("reviewer2"))
    assert r.json()["review_level_name"] == "审发"
    r = api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"}, headers=room.auth("signer"))
    done = r.json()
    assert done["status"] == "approved" and done["approved_revision"] == 1
    assert done["canonical_url"].startswith("http://127.0.0.1:8000/sites/cq/xxgk/")
    assert done["canonical_url"].endswith(f"_{item['id']}.html")
    assert [(rv["level"], rv["reviewer"], rv["decision"]) for rv in done["reviews"]] == [
        (1, "reviewer1", "approve"), (2, "reviewer2", "approve"), (3, "signer", "approve")]

    audit = api.get(f"/api/v1/audit?item={item['id']}", headers=room.auth("admin")).json()
    actions = [(a["action"], a["actor"]) for a in audit]
    assert actions == [("item.create", "editor"), ("item.submit", "editor"), ("review.approve", "reviewer1"),
                       ("review.approve", "reviewer2"), ("review.approve", "signer"), ("item.approve", "signer")]
    assert audit[2]["detail"]["comment"] == "事实准确" and all(a["revision"] == 1 for a in audit)


def test_the_author_cannot_approve_their_own_item(api, room):
    _, token = None, None
    from pipeline.org.users import add_user
    from pipeline.store.db import session_scope

    with session_scope() as session:
        _, token = add_user(session, "writer_reviewer", "reviewer", "cq")
    r = api.post("/api/v1/items", json=policy_body(), headers={"Authorization": f"Bearer {token}"})
    item_id = r.json()["id"]
    api.post(f"/api/v1/items/{item_id}/submit", headers={"Authorization": f"Bearer {token}"})
    r = api.post(f"/api/v1/items/{item_id}/reviews", json={"decision": "approve"},
                 headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "一事一审" in r.json()["detail"]
    assert api.get(f"/api/v1/items/{item_id}", headers=room.auth("admin")).json()["review_level"] == 1


def test_a_reviser_cannot_sign_off(api, room):
    item = create(api, room)
    r = api.put(f"/api/v1/items/{item['id']}", json={"summary": "修改摘要"}, headers=room.auth("signer"))
    assert r.status_code == 200 and r.json()["revision"] == 2
    api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))
    approve_all(api, room, item["id"], ("reviewer1", "reviewer2"))
    r = api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"}, headers=room.auth("signer"))
    assert r.status_code == 403 and "wrote or revised" in r.json()["detail"]
    r = api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"}, headers=room.auth("signer2"))
    assert r.status_code == 200 and r.json()["status"] == "approved"


def test_one_person_acts_on_one_level_only(api, room):
    item = create(api, room)
    api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))
    approve_all(api, room, item["id"], ("reviewer1",))
    r = api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"}, headers=room.auth("reviewer1"))
    assert r.status_code == 403 and "one level only" in r.json()["detail"]


def test_reject_returns_to_draft_with_the_reason_and_editing_restarts_review(api, room):
    item = create(api, room)
    api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))
    approve_all(api, room, item["id"], ("reviewer1",))
    r = api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "reject", "comment": "文号有误，请核对"},
                 headers=room.auth("reviewer2"))
    assert r.json()["status"] == "draft" and r.json()["rejection_reason"] == "文号有误，请核对"
    r = api.put(f"/api/v1/items/{item['id']}", json={"doc_no": "渝府办发〔2019〕65号"}, headers=room.auth("editor"))
    assert r.json()["revision"] == 2 and r.json()["rejection_reason"] is None
    api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))
    # reviewer1 decided level 1 of revision 1; revision 2 is a new review, so they may act again
    done = approve_all(api, room, item["id"])
    assert done["status"] == "approved" and done["approved_revision"] == 2 and done["doc_no"] == "渝府办发〔2019〕65号"


def test_editing_an_item_in_review_sends_it_back_to_draft(api, room):
    item = create(api, room)
    api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))
    approve_all(api, room, item["id"], ("reviewer1",))
    r = api.put(f"/api/v1/items/{item['id']}", json={"title": "（修订）" + policy_body()["title"]},
                headers=room.auth("editor"))
    assert r.json()["status"] == "draft" and r.json()["review_level"] is None
    audit = api.get(f"/api/v1/audit?item={item['id']}", headers=room.auth("admin")).json()
    assert audit[-1]["action"] == "item.revise" and audit[-1]["detail"]["review_restarted"] is True


def test_policy_and_interpretation_point_at_each_other(api, room):
    policy = create(api, room)
    r = api.post("/api/v1/items", json={"title": "《关于进一步加强政府网站信息内容建设的通知》政策解读",
                                        "body": INTERPRETATION_BODY, "kind": "interpretation",
                                        "interprets": policy["id"]}, headers=room.auth("editor"))
    assert r.status_code == 201, r.text
    interpretation = r.json()
    assert interpretation["interprets"] == policy["id"]
    assert api.get(f"/api/v1/items/{policy['id']}", headers=room.auth("editor")).json()["interpretations"] == [
        interpretation["id"]]
    r = api.post("/api/v1/items", json={"title": "解读", "body": "<p>x</p>", "kind": "news",
                                        "interprets": policy["id"]}, headers=room.auth("editor"))
    assert r.status_code == 422 and "interpretation" in r.json()["detail"]


def test_republication_needs_an_approved_item_of_another_unit(api, room):
    source = create(api, room)
    r = api.post("/api/v1/items", json=policy_body(republished_from=source["id"]), headers=room.auth("editor2"))
    assert r.status_code == 422 and "not been approved" in r.json()["detail"]
    api.post(f"/api/v1/items/{source['id']}/submit", headers=room.auth("editor"))
    approve_all(api, room, source["id"])
    r = api.post("/api/v1/items", json=policy_body(republished_from=source["id"]), headers=room.auth("editor2"))
    assert r.status_code == 201 and r.json()["unit"] == "yuzhong" and r.json()["index_no"].startswith("009283746/")
    r = api.post("/api/v1/items", json=policy_body(republished_from=source["id"]), headers=room.auth("editor"))
    assert r.status_code == 422 and "another unit" in r.json()["detail"]


def test_body_html_is_sanitised_on_input(api, room):
    item = create(api, room, body='<p onclick="x()">通知<script>alert(1)</script>'
                                   '<a href="javascript:alert(1)">链接</a><img src=x onerror=alert(1)></p>',
                  title="<b>标题</b>")
    assert "script" not in item["body"] and "onclick" not in item["body"] and "onerror" not in item["body"]
    assert "javascript:" not in item["body"] and item["title"] == "标题"


def test_list_filters_by_status_and_unit(api, room):
    a = create(api, room)
    create(api, room)
    api.post(f"/api/v1/items/{a['id']}/submit", headers=room.auth("editor"))
    r = api.get("/api/v1/items?status=in_review&unit=cq", headers=room.auth("editor"))
    assert [i["id"] for i in r.json()] == [a["id"]]
    assert api.get("/api/v1/items?unit=yuzhong", headers=room.auth("editor")).json() == []
