"""Adapters of the services' ports to the world outside Redis: RQ jobs and
the notifiers (outbox files, an HTTP SMS gateway, Zalo ZNS)."""
