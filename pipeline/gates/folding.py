"""Length-preserving text folding, so matches found on folded text map back to the original offsets.

Full-width ASCII (`１３８`, `ＷＷＷ．`, `Ｋ粉`) becomes half-width, the ideographic space becomes a
space, and ASCII letters become lower case. Every character maps to exactly one character;
`str.lower()` or NFKC would not guarantee that.
"""


def _build_table() -> dict[int, int]:
    table = {cp: ord(chr(cp - 0xFEE0).lower()) for cp in range(0xFF01, 0xFF5F)}
    table[0x3000] = 0x20
    table.update({cp: cp + 0x20 for cp in range(ord("A"), ord("Z") + 1)})
    return table


_TABLE = _build_table()


def fold(text: str) -> str:
    """Fold width and ASCII case; `len(fold(s)) == len(s)` always."""
    return text.translate(_TABLE)
