"""Stand-ins for outside services the tests and offline trials talk to."""
