"""The configuration reference in deploy/README.md, generated from `pipeline.config.Settings`.

    .venv/bin/python deploy/config_reference.py           print the table
    .venv/bin/python deploy/config_reference.py --write   rewrite it in deploy/README.md
    .venv/bin/python deploy/config_reference.py --check   exit 1 when the README is out of date

Variable, type and default come from Settings; the meaning is kept from the README's current row,
else taken from the field's description or its comment in pipeline/config.py. A new setting
without either gets "TODO", which tests/integration/test_deploy_manifests.py refuses.
"""

import ast
import io
import re
import sys
import tokenize
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "deploy" / "README.md"
CONFIG = ROOT / "pipeline" / "config.py"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
HEADER = "| variable | type | default | meaning |\n|---|---|---|---|\n"
_CELL = r"(?:[^|\\]|\\\|)*"  # a table cell; `\|` inside it is a literal bar
_ROW = re.compile(rf"^\| `(CK_[A-Z0-9_]+)` \| {_CELL} \| {_CELL} \| (.*) \|$")


def _source_comments() -> dict[str, str]:
    """field name → the comment at the end of its line (or on the line above it) in config.py."""
    source = CONFIG.read_text(encoding="utf-8")
    comments = {t.start[0]: t.string.lstrip("# ").strip()
                for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT}
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == "Settings":
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    if stmt.lineno in comments:
                        found[stmt.target.id] = comments[stmt.lineno]
    return found


def _type(annotation) -> str:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if args and typing.get_origin(annotation) is not typing.Literal:
        return _type(args[0])
    name = getattr(annotation, "__name__", str(annotation))
    return {"str": "text", "int": "integer", "float": "number", "bool": "true/false", "Path": "path",
            "SecretStr": "secret"}.get(name, name)


def _default(field) -> str:
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, Path):
        value = str(value)
    if value == "":
        return "empty"
    return f"`{value}`"


def current_meanings(text: str) -> dict[str, str]:
    meanings = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            meanings[match.group(1)] = match.group(2)
    return meanings


def table(readme_text: str | None = None) -> str:
    sys.path.insert(0, str(ROOT))
    from pipeline.config import Settings

    kept = current_meanings(readme_text or "")
    comments = _source_comments()
    rows = []
    for name, field in Settings.model_fields.items():
        env = "CK_" + name.upper()
        meaning = kept.get(env) or field.description or comments.get(name) or "TODO"
        rows.append(f"| `{env}` | {_type(field.annotation)} | {_default(field)} | {meaning} |")
    return HEADER + "\n".join(rows) + "\n"


def render(readme_text: str) -> str:
    """The README with its settings table regenerated."""
    start, end = readme_text.index(BEGIN) + len(BEGIN), readme_text.index(END)
    return readme_text[:start] + "\n" + table(readme_text) + readme_text[end:]


def main(argv: list[str]) -> int:
    text = README.read_text(encoding="utf-8")
    if "--write" in argv:
        README.write_text(render(text), encoding="utf-8")
    elif "--check" in argv:
        if render(text) != text:
            print("deploy/README.md: the settings table is out of date; run deploy/config_reference.py --write",
                  file=sys.stderr)
            return 1
    else:
        print(table(text), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
