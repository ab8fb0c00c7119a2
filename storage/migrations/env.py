"""Alembic environment: the engine comes from the caller (``storage.db.upgrade``)."""

from alembic import context

from storage.db import make_engine, transactional_ddl
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate must not drop what migration 0003 made outside the models: the FTS5
    table and its shadow tables, and PostgreSQL's full-text expression index; nor
    recreate the expression indexes ``ix_course_rating`` (0004) and ``ix_course_best_rated``
    (0012), which it cannot compare."""
    if type_ == "table" and name and name.startswith("course_fts"):
        return False
    return not (
        type_ == "index"
        and name in ("ix_course_search", "ix_course_rating", "ix_course_best_rated")
    )


def run_migrations_online() -> None:
    """Each migration in its own transaction, on SQLite too (``transactional_ddl``): a
    migration interrupted at any point (``kill -9``, Ctrl-C, power cut) leaves the schema
    as the previous one left it, and the next ``moisson db upgrade`` starts it again."""
    engine = config.attributes.get("engine") or make_engine(
        config.get_main_option("sqlalchemy.url")
    )
    with engine.connect() as connection, transactional_ddl(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
