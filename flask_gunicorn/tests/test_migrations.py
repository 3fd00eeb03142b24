from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import func, select
from votr.models import Fortune, World, db


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_release_twice_changes_nothing(app):
    with app.app_context():
        numbers = dict(db.session.execute(select(World.id, World.randomnumber)).all())
        upgrade()
        db.session.rollback()
        assert dict(db.session.execute(select(World.id, World.randomnumber)).all()) == numbers
        assert db.session.scalar(select(func.count()).select_from(Fortune)) == 12
        assert len(numbers) == 10000 and set(numbers) == set(range(1, 10001))
