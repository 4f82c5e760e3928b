"""Fixtures for tests that run against the real QGIS (pytest-qgis starts the application)."""
from __future__ import annotations

import pytest
from qgis.core import QgsProject

from offload.core.task import running_tasks
from qgis_helpers import wait_until


@pytest.fixture
def project(qgis_new_project) -> QgsProject:
    """A cleared project; removed layers are deleted at teardown."""
    QgsProject.instance().clear()
    yield QgsProject.instance()
    QgsProject.instance().clear()


@pytest.fixture(autouse=True)
def no_task_left_running():
    """Every test must leave no Offload task behind (and none may leak into the next)."""
    yield
    for task in running_tasks():
        task.cancel()
    wait_until(lambda: not running_tasks(), 10.0, "Offload tasks to finish")
