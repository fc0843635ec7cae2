"""Persistence: SQLAlchemy 2 tables, the async engine, migrations and repositories."""
