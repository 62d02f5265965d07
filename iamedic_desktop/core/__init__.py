"""Settings, logging, errors and database plumbing shared by every layer (no Qt)."""
