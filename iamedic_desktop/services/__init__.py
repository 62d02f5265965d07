"""Business rules, permission and ownership checks; every call acts as a user."""
