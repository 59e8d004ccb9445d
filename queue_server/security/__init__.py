"""Users, devices, sessions, rate limits and the audit log."""
