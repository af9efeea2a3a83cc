"""Personal-data gate: ID numbers, mobiles and bank cards, with the near misses of real gov text.

Valid numbers are built here with independent formulas (MOD 11-2 via powers of two, Luhn via
digit sums), not with the code under test.
"""

import pytest

from pipeline.gates import find_personal_data, is_valid_id_number, luhn_ok


def make_id(first17: str) -> str:
    """ISO 7064 MOD 11-2: weight of position i (from the right, check = 1) is 2^(i-1) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


def wrong_check(number: str) -> str:
    right = number[-1]
    return number[:-1] + ("0" if right != "0" else "1")


def luhn_sum(number: str) -> int:
    return sum(sum(divmod(int(c) * (1 + i % 2), 10)) for i, c in enumerate(reversed(number)))


def make_card(partial: str) -> str:
    """Append the one digit that makes `partial` pass Luhn."""
    return next(partial + d for d in "0123456789" if luhn_sum(partial + d) % 10 == 0)


def rules(text: str) -> list[tuple[str, str]]:
    found = find_personal_data(text, "body")
    for f in found:
        assert text[f.start : f.end] == f.text
        assert f.field == "body"
    return [(f.rule, f.text) for f in found]


ID_1 = make_id("50010319850612301")  # 重庆渝中区, 1985-06-12
ID_2 = make_id("11010520000229004")  # 2000-02-29, a leap day
ID_X = "11010519491231002X"


def test_test_helpers_agree_with_the_published_example():
    # GB 11643-1999 gives 11010519491231002X as its worked example.
    assert make_id("11010519491231002") == "11010519491231002X"
    assert luhn_sum("4111111111111111") % 10 == 0


def test_valid_id_number_is_found_with_its_position():
    text = f"申请人张某某，身份证号{ID_1}，现住渝中区解放碑街道。"
    found = find_personal_data(text, "body")
    assert [(f.rule, f.text) for f in found] == [("id_card", ID_1)]
    assert found[0].start == text.index(ID_1)
    assert found[0].end == found[0].start + 18
    assert "身份证" in found[0].message


def test_id_with_x_check_character_upper_and_lower_case():
    assert ID_X.endswith("X")
    assert rules(f"身份证：{ID_X}。") == [("id_card", ID_X)]
    assert rules(f"身份证：{ID_X.lower()}。") == [("id_card", ID_X.lower())]



def test_leap_day_birth_date_is_valid():
    assert rules(f"公民身份号码{ID_2}") == [("id_card", ID_2)]


def test_wrong_check_digit_is_not_an_id():
    bad = wrong_check(ID_1)
    assert not is_valid_id_number(bad)
    assert ("id_card", bad) not in rules(f"身份证号{bad}。")


@pytest.mark.parametrize(
    "first17",
    [
        "50010319850230301",  # 30 February
        "50010319851312301",  # month 13
        "50010319850600301",  # day 0
        "50010318850612301",  # 1885, nobody alive
        "50010319000229301",  # 1900 was not a leap year
    ],
)
def test_impossible_birth_date_is_not_an_id(first17):
    number = make_id(first17)
    assert not is_valid_id_number(number)
    assert ("id_card", number) not in rules(f"身份证号{number}。")


def test_unknown_province_code_is_not_an_id():
    number = make_id("99010319850612301")
    assert not is_valid_id_number(number)


def test_foreigners_permanent_residence_card_layout_is_an_id():
    number = make_id("95010319850612301")  # "9" + 50 (重庆) ...
    assert is_valid_id_number(number)


def test_id_inside_a_longer_digit_run_is_not_found():
    for text in (f"流水号9{ID_1}", f"{ID_1}7", f"档案编号A{ID_1}"):
        assert all(rule != "id_card" for rule, _ in rules(text)), text


def test_credit_code_of_a_company_is_not_an_id_or_card():
    text = "重庆某某建设有限公司（统一社会信用代码：91500000202801139X）中标。"
    assert rules(text) == []


def test_valid_id_is_not_also_reported_as_bank_card():
    # Find an ID that also passes Luhn; it must still be one id_card finding only.
    candidates = (make_id(f"50010319850612{seq:03d}") for seq in range(1000))
    number = next(n for n in candidates if n[-1] != "X" and luhn_sum(n) % 10 == 0)
    assert rules(f"身份证号{number}") == [("id_card", number)]


@pytest.mark.parametrize(
    "mobile",
    ["13800138000", "139 2345 6789", "150-2345-6789", "+86 13823456789", "+8613823456789",
     "8615923456789", "0086 17723456789", "+86-138-2345-6789"],
)
def test_mobile_numbers_in_the_accepted_formats(mobile):
    text = f"如有疑问请联系王老师，手机{mobile}（工作日）。"
    assert rules(text) == [("mobile", mobile)]


def test_full_width_mobile_is_found_with_original_text():
    text = "联系电话：１３８００１３８０００"
    assert rules(text) == [("mobile", "１３８００１３８０００")]


@pytest.mark.parametrize(
    "number",
    [
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "12345678901",  # 1 then 2: not a mobile prefix
        "11012345678",
        "138 00138 000",  # wrong grouping
        "138-0013 8000",  # mixed separators
    ],
)
def test_mobile_near_misses(number):
    assert rules(f"编号{number}号") == []


def test_mobile_inside_longer_number_is_not_found():
    assert rules("订单号20231380013800012") == []
    assert rules("金额0.13800138000元") == []
    assert rules("13800138000.5万元") == []


def test_landlines_hotline_dates_and_document_numbers_are_not_findings():
    text = (
        "渝府办发〔2019〕64号\n索引号：008282882/2016-00712\n"
        "成文日期：2019-05-20  发布日期：2019年5月24日\n"
        "咨询电话：023-63851234、(023)63851234、02363851234，或拨打12345政务服务便民热线、"
        "12315消费者投诉举报热线，传真：023-6385 1235。邮编：401147。"
        "2023年全市地区生产总值30145.79亿元，比上年增长6.1%。"
    )
    assert rules(text) == []


def test_bank_card_plain_and_grouped():
    card16 = make_card("622202100112345678"[:15])
    card19 = make_card("621700283000123456")
    grouped = " ".join(card19[i : i + 4] for i in range(0, 19, 4))
    assert len(card16) == 16 and len(card19) == 19 and grouped.count(" ") == 4
    assert rules(f"请汇入银行卡{card16}。") == [("bank_card", card16)]
    assert rules(f"卡号：{grouped}，户名：张三") == [("bank_card", grouped)]


def test_luhn_failure_is_not_a_card():
    card = make_card("621700283000123456")
    bad = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert luhn_ok(card) and not luhn_ok(bad)
    assert rules(f"卡号{bad}") == []


def test_card_lengths_outside_16_to_19_are_not_cards():
    assert rules(f"编号{make_card('62220210011234')}") == []  # 15 digits
    assert rules(f"编号{make_card('6222021001123456789')}") == []  # 20 digits


def test_grouped_card_inside_a_longer_grouped_run_is_not_found():
    card = make_card("622202100112345")
    grouped = " ".join(card[i : i + 4] for i in range(0, 16, 4))
    assert rules(f"序列 1234 {grouped}") == []
    assert rules(f"{grouped} 5678") == []


def test_several_findings_keep_document_order():
    card = make_card("622848001234567890")
    text = f"甲：{ID_1}；乙：13923456789；账户：{card}"
    found = find_personal_data(text, "summary")
    assert [f.rule for f in found] == ["id_card", "mobile", "bank_card"]
    assert [f.start for f in found] == sorted(f.start for f in found)
    assert all(text[f.start : f.end] == f.text and f.field == "summary" for f in found)
