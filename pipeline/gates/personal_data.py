"""Personal data that must never be published: resident ID numbers, mobile numbers, bank cards.

Each number is validated, not just shape-matched, to keep government text (dates, 文号 such as
渝府办发〔2019〕64号, 索引号 such as 008282882/2016-00712, landlines such as 023-63851234, the
12345 hotline) free of false positives:

* ID number (GB 11643-1999): 18 characters, a known province code (or "9" + province code for
  foreigners' permanent residence cards), a real birth date in 1900-2099, and the check
  character (ISO 7064 MOD 11-2).
* Mobile: 11 digits starting 1[3-9], optionally after +86 / 86 / 0086, plain or grouped 3-4-4
  with one consistent separator (space or hyphen).
* Bank card: 16-19 digits passing the Luhn check, plain or grouped in fours by spaces.
  Luhn passes for one random digit string in ten, so this rule is the weakest of the three.

No number matches inside a longer digit run or alphanumeric code (统一社会信用代码 such as
91500000202801139X, tracking numbers) or next to a decimal point. Matching runs on folded
text, so full-width digits are caught too. A span claimed by an ID number is not reported again
as a bank card.
"""

import re
from datetime import date

from pipeline.gates.findings import FieldName, Finding
from pipeline.gates.folding import fold

# Not inside a longer number or alphanumeric code (matching runs on folded, lower-case text),
# and not the fraction part of a decimal.
_BEFORE = r"(?<![0-9a-z])(?<![0-9]\.)"
_AFTER = r"(?![0-9a-z])(?!\.[0-9])"

_ID_RE = re.compile(_BEFORE + r"[0-9]{17}[0-9x]" + _AFTER)
_MOBILE_RE = re.compile(
    _BEFORE + r"(?:(?:\+|00)?86[ -]?)?" + r"1[3-9][0-9]([ -]?)[0-9]{4}\1[0-9]{4}" + _AFTER
)
_BANK_CARD_RE = re.compile(
    _BEFORE
    + r"(?:[0-9]{16,19}"
    + r"|(?<![0-9] )[0-9]{4}(?: [0-9]{4}){3}(?: [0-9]{1,3})?(?! [0-9]))"
    + _AFTER
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level codes; 81/82/83 are the residence permits of Hong Kong, Macao and
# Taiwan residents, which share the 18-character layout.
_ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)

MESSAGES = {
    "id_card": "身份证号码 (resident ID number) must not be published",
    "mobile": "手机号码 (mobile phone number) must not be published",
    "bank_card": "银行卡号 (bank card number) must not be published",
}


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def is_valid_id_number(number: str) -> bool:
    """18-character mainland resident ID number with a real birth date and a correct check char."""
    number = number.upper()
    if len(number) != 18 or not number[:17].isdecimal() or not number[:17].isascii():
        return False
    # Foreigners' permanent residence ID cards (2023 layout) are "9" + province code + ...
    if number[:2] not in _ID_PROVINCES and not (number[0] == "9" and number[1:3] in _ID_PROVINCES):
        return False
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    if not 1900 <= year <= 2099:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return id_check_char(number[:17]) == number[17]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_personal_data(text: str, field: FieldName) -> list[Finding]:
    folded = fold(text)
    spans: list[tuple[int, int, str]] = []

    def claim(start: int, end: int, rule: str) -> None:
        if not any(start < e and s < end for s, e, _ in spans):
            spans.append((start, end, rule))

    for m in _ID_RE.finditer(folded):
        if is_valid_id_number(m.group()):
            claim(m.start(), m.end(), "id_card")
    for m in _MOBILE_RE.finditer(folded):
        claim(m.start(), m.end(), "mobile")
    for m in _BANK_CARD_RE.finditer(folded):
        if luhn_ok(m.group().replace(" ", "")):
            claim(m.start(), m.end(), "bank_card")

    return [
        Finding(rule=rule, field=field, text=text[s:e], start=s, end=e, message=MESSAGES[rule])
        for s, e, rule in sorted(spans)
    ]
