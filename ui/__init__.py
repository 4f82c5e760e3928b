"""What people see: the dialog with its task forms and task list, and message-bar notices."""
