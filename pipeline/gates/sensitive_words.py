"""Dictionary matching with one Aho-Corasick automaton, built once per word list.

The same matcher serves the sensitive-word dictionary and the advertising phrase list.
Matching is on folded text (full-width → half-width, ASCII case-insensitive), and overlapping
hits are resolved leftmost-longest: "网络赌博平台" with both "网络赌博" and "赌博平台" in the list
reports only "网络赌博".
"""

from collections.abc import Iterable
from pathlib import Path

import ahocorasick

from pipeline.gates.findings import FieldName, Finding
from pipeline.gates.folding import fold

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_WORDS_FILE = DATA_DIR / "sensitive_words.txt"


def load_words(path: Path | str) -> list[str]:
    """One word per line, UTF-8 (a BOM is tolerated); blank lines and lines starting with `#` skipped."""
    words = []
    for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            words.append(word)
    return words


class SensitiveWordMatcher:
    def __init__(self, words: Iterable[str]):
        self._automaton = ahocorasick.Automaton()
        for word in words:
            key = fold(word.strip())
            if key and key not in self._automaton:
                self._automaton.add_word(key, (len(key), word.strip()))
        self._size = len(self._automaton)
        if self._size:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return self._size

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping `(start, end, dictionary_word)` hits, leftmost first, longest at a tie."""
        if not self._size or not text:
            return []
        hits = []
        for last, (length, word) in self._automaton.iter(fold(text)):
            hits.append((last + 1 - length, last + 1, word))
        hits.sort(key=lambda hit: (hit[0], -hit[1]))
        chosen: list[tuple[int, int, str]] = []
        for start, end, word in hits:
            if not chosen or start >= chosen[-1][1]:
                chosen.append((start, end, word))
        return chosen


def find_sensitive_words(text: str, field: FieldName, matcher: SensitiveWordMatcher) -> list[Finding]:
    return [
        Finding(
            rule="sensitive_word",
            field=field,
            text=text[start:end],
            start=start,
            end=end,
            message=f"敏感词“{word}” (prohibited term) must not be published",
        )
        for start, end, word in matcher.find(text)
    ]
