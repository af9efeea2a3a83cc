"""Content gates refuse leaked personal data, ad links and sensitive words — on submit and at sign-off."""


from tests.factories import policy_body

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id(first17: str) -> str:
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def luhn(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0


def submit(api, room, body_html):
    item = api.post("/api/v1/items", json=policy_body(body=body_html), headers=room.auth("editor")).json()
    return item, api.post(f"/api/v1/items/{item['id']}/submit", headers=room.auth("editor"))


def test_a_leaked_id_number_is_refused_with_its_position(api, room):
    leaked = resident_id("50010319850612341")
    item, r = submit(api, room, f"<p>经查，当事人张某（身份证号{leaked}）已依法处理。</p>")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    findings = r.json()["findings"]
    assert [(f["rule"], f["text"], f["field"]) for f in findings] == [("id_card", leaked, "body")]
    assert findings[0]["end"] - findings[0]["start"] == 18
    assert leaked in r.json()["detail"]
    assert api.get(f"/api/v1/items/{item['id']}", headers=room.auth("editor")).json()["status"] == "draft"


def test_a_wrong_check_digit_is_not_a_finding(api, room):
    good = resident_id("50010319850612341")
    # a wrong check digit that also fails Luhn (otherwise it would rightly look like a bank card)
    wrong = next(good[:-1] + d for d in "0123456789" if d != good[-1] and not luhn(good[:-1] + d))
    _, r = submit(api, room, f"<p>编号{wrong}仅为档案号。</p>")
    assert r.status_code == 200, r.text


def test_an_ad_link_is_refused_but_a_gov_link_is_not(api, room):
    _, r = submit(api, room, '<p>详见<a href="https://shop.taobao.com/item/123">限时抢购</a>。</p>')
    assert r.status_code == 422
    rules = {f["rule"] for f in r.json()["findings"]}
    assert "external_link" in rules and "ad_phrase" in rules
    _, r = submit(api, room, '<p>全文见<a href="https://www.cq.gov.cn/zwgk/">重庆市人民政府网</a>。</p>')
    assert r.status_code == 200, r.text


def test_gates_run_again_at_sign_off_with_a_changed_dictionary(api, room, settings, tmp_path, monkeypatch):
    item, r = submit(api, room, "<p>全市开展打击六合彩专项行动。</p>")
    assert r.status_code == 422 and r.json()["findings"][0]["rule"] == "sensitive_word"
    item, r = submit(api, room, "<p>全市开展扫黑除恶专项行动。</p>")
    assert r.status_code == 200
    for who in ("reviewer1", "reviewer2"):
        api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"}, headers=room.auth(who))
    words = tmp_path / "words.txt"
    words.write_text("# 新增\n扫黑除恶专项\n", encoding="utf-8")
    settings.sensitive_words_file = words
    r = api.post(f"/api/v1/items/{item['id']}/reviews", json={"decision": "approve"}, headers=room.auth("signer"))
    assert r.status_code == 422 and r.json()["findings"][0]["text"] == "扫黑除恶专项"
    after = api.get(f"/api/v1/items/{item['id']}", headers=room.auth("editor")).json()
    assert after["status"] == "in_review" and after["review_level"] == 3 and len(after["reviews"]) == 2
