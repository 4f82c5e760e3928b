"""Build Offload's translation files: ``make translations``.

Collects every string given to ``tr()`` / ``tr_noop()`` in the plugin's Python files (context
"Offload", as ``core/i18n.py`` translates), writes ``i18n/offload.ts`` (the template: every
source string, none translated) and adds new strings to each ``i18n/offload_<lang>.ts`` a
translator has started (Qt Linguist opens them), keeping their translations. ``lrelease``
then compiles each ``.ts`` into the ``.qm`` the plugin loads for QGIS's locale.

pylupdate5 cannot see these calls (``tr`` here is a function taking named fields, not
``QObject.tr``), so the strings are read from the syntax tree instead. Stdlib only.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "i18n"
CONTEXT = "Offload"
SKIP = {".venv", "tests", "bench", "tools", "i18n", ".git"}
MARKERS = {"tr", "tr_noop"}


def source_strings(root: Path = ROOT) -> Dict[str, List[Tuple[str, int]]]:
    """Every literal passed first to tr()/tr_noop(), with where it occurs."""
    found: Dict[str, List[Tuple[str, int]]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIP & set(relative.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, []).append((str(relative), node.lineno))
    return found


def write_ts(path: Path, strings: Dict[str, List[Tuple[str, int]]], language: str = "") -> None:
    """Write (or update) a .ts file: known translations are kept, new strings are unfinished."""
    known: Dict[str, ElementTree.Element] = {}
    if path.exists():
        for message in ElementTree.parse(path).getroot().iter("message"):
            known[message.findtext("source")] = message.find("translation")
    root = ElementTree.Element("TS", version="2.1", sourcelanguage="en")
    if language:
        root.set("language", language)
    context = ElementTree.SubElement(root, "context")
    ElementTree.SubElement(context, "name").text = CONTEXT
    for text, places in sorted(strings.items()):
        message = ElementTree.SubElement(context, "message")
        for filename, line in places:
            ElementTree.SubElement(message, "location", filename=f"../{filename}", line=str(line))
        ElementTree.SubElement(message, "source").text = text
        old = known.get(text)
        if old is not None and (old.text or "") and old.get("type") != "unfinished":
            ElementTree.SubElement(message, "translation").text = old.text
        else:
            ElementTree.SubElement(message, "translation", type="unfinished")
    ElementTree.indent(root)
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n'
                    + ElementTree.tostring(root, encoding="unicode") + "\n", encoding="utf-8")


def main() -> int:
    strings = source_strings()
    write_ts(HERE / "offload.ts", strings)
    for ts in sorted(HERE.glob("offload_*.ts")):
        write_ts(ts, strings, ts.stem.split("_", 1)[1])
    print(f"translations: {len(strings)} strings in {HERE / 'offload.ts'}", file=sys.stderr)
    for ts in sorted(HERE.glob("offload*.ts")):
        subprocess.run(["lrelease", "-silent", str(ts), "-qm", str(ts.with_suffix(".qm"))], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
