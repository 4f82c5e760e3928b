"""Offload's core: the one base task and what every task family shares.

Import the modules you need (``from offload.core.task import OffloadTask``); this package
imports nothing at load time, so the plugin starts fast.
"""
