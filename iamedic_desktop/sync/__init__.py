"""The sync engine between the embedded store and the central database."""
