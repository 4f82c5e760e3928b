"""The dialog's task forms: one module per task, each a ``TaskForm`` (see ``base.py``)."""
