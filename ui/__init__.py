"""What people see: the dialog, message-bar notices and layer styles."""
