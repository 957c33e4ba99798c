"""timestamp-lint: find ORM records created with another record's timestamps."""

__version__ = "0.1.0"
