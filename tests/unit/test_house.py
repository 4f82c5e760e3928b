"""The house as a whole: Python 3.9 syntax everywhere, and the zip the plugin repository gets."""
from __future__ import annotations

import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from offload.core.metadata import version

ROOT = Path(__file__).resolve().parents[2]


def test_python_39_syntax_only():
    """QGIS 3.22's Windows installers ship Python 3.9: no match statements, no X | Y at run time."""
    import ast

    for path in ROOT.rglob("*.py"):
        if ".venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(), feature_version=(3, 9))
        assert tree is not None, path


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout")
def test_package_builds_a_zip_with_one_top_folder_and_no_dev_files(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "tools" / "package.py"), "--output", str(tmp_path)],
                   check=True, capture_output=True)
    (zip_path,) = tmp_path.glob("offload-*.zip")
    names = zipfile.ZipFile(zip_path).namelist()
    assert {name.split("/")[0] for name in names} == {"offload"}
    for needed in ("__init__.py", "plugin.py", "metadata.txt", "core/task.py", "resources/icon.svg"):
        assert f"offload/{needed}" in names
    assert not [n for n in names if n.split("/")[1] in ("tests", "bench", "tools", ".ci", "Makefile", "pytest.ini")]
    stamped = configparser.ConfigParser(interpolation=None)
    stamped.read_string(zipfile.ZipFile(zip_path).read("offload/metadata.txt").decode())
    assert len(stamped["general"]["commitSha1"]) == 40
    assert stamped["general"]["version"] == version()
