"""Build the zip QGIS's "Install from ZIP" takes: one top folder ``offload/``, no dev files.

The files come from ``git archive HEAD`` (so ``.gitattributes`` export-ignore keeps tests,
benchmarks and tooling out, and only committed work ships); ``metadata.txt`` inside the
zip gets the commit stamped in. Usage: ``python3 tools/package.py [--output DIR]``.
"""
from __future__ import annotations

import argparse
import configparser
import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = "offload"


def git(*args: str) -> bytes:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True).stdout


def stamped_metadata(text: str, commit: str) -> str:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep QGIS's camelCase keys
    parser.read_string(text)
    parser["general"]["commitSha1"] = commit
    out = io.StringIO()
    parser.write(out, space_around_delimiters=False)
    return out.getvalue()


def build(output_dir: Path) -> Path:
    commit = git("rev-parse", "HEAD").decode().strip()
    if git("status", "--porcelain", "--untracked-files=no").strip():
        print("package: uncommitted changes are not in the zip (it is built from HEAD)", file=sys.stderr)
    archive = tarfile.open(fileobj=io.BytesIO(git("archive", "--format=tar", "HEAD")))
    metadata = archive.extractfile("metadata.txt").read().decode("utf-8")
    version = configparser.ConfigParser(interpolation=None)
    version.read_string(metadata)
    target = output_dir / f"offload-{version['general']['version']}.zip"
    output_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zipped:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            data = archive.extractfile(member).read()
            if member.name == "metadata.txt":
                data = stamped_metadata(metadata, commit).encode("utf-8")
            zipped.writestr(f"{TOP}/{member.name}", data)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "dist", help="folder for the zip (default dist/)")
    target = build(parser.parse_args().output)
    print(target)


if __name__ == "__main__":
    main()
