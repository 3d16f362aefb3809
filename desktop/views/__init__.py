"""Views opened from the menu: the user's usage, and the admin's users, keys and audit log."""
