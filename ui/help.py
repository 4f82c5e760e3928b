"""Help for a task: its section of the README shipped with the plugin, shown in a window.

The README is the one place the documentation lives; the dialog renders the section the
task's catalog entry names (Qt reads Markdown), so help works offline and stays in step.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from qgis.PyQt.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from ..core.i18n import tr

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_section(title: str, readme: Path = README) -> str:
    """The Markdown of the README's ``## title`` section (up to the next ``## `` heading).

    :raises KeyError: when the README has no such section.
    """
    lines = readme.read_text(encoding="utf-8").splitlines()
    heading = f"## {title}"
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise KeyError(f"README has no section {heading!r}") from None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).strip() + "\n"


class HelpWindow(QDialog):
    """One task's documentation, non-modal, beside the dialog."""

    def __init__(self, title: str, sections, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Offload help: {task}", task=title))
        self.setObjectName("offload_help")
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown("\n\n".join(readme_section(section) for section in sections))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(640, 640)
