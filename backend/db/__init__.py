"""The dashboard's storage: SQLAlchemy 2 models, repositories and Alembic migrations."""
