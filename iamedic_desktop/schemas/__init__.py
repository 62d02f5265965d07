"""Validated DTOs that cross layer boundaries; never ORM objects."""
