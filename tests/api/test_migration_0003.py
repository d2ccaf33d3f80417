"""Migration 0003 gives every hypothesis a namespace without losing one or moving an experiment
off its hypothesis: checked on a 0002 database holding rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from backend.db.migrate import alembic_config, current_revision

STEADY = '{"criteria": [{"metric": "qps", "min": 1}]}'


def seed_0002(engine: Engine) -> dict[str, int]:
    """`shared` is used in two namespaces, `shop only` in one, `unused` by none; experiment `e`
    has none. Ids come from the database, as they do in use. Returns the hypotheses' ids."""
    ids: dict[str, int] = {}
    with engine.begin() as c:
        for title in ("shared", "shop only", "unused"):
            c.execute(
                text("INSERT INTO hypotheses (title, description, steady_state, created_at, "
                     "updated_at) VALUES (:t, 'd', :s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"t": title, "s": STEADY},
            )  # fmt: skip
            ids[title] = c.scalar(text("SELECT max(id) FROM hypotheses"))
        rows = [("shop", "a", "shared"), ("payments", "b", "shared"), ("shop", "c", "shared"),
                ("shop", "d", "shop only"), ("payments", "e", None)]  # fmt: skip
        for ns, name, title in rows:
            c.execute(
                text("INSERT INTO experiments (namespace, name, description, hypothesis_id, "
                     "spec, status, created_at, updated_at) VALUES (:ns, :n, '', :h, '{}', "
                     "'idle', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"ns": ns, "n": name, "h": ids[title] if title else None},
            )  # fmt: skip
    return ids


def hypotheses(engine: Engine) -> dict[int, tuple[str, str, str]]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT id, namespace, title, description FROM hypotheses"))
        return {r[0]: (r[1], r[2], r[3]) for r in rows}


def uses(engine: Engine) -> dict[str, int | None]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT name, hypothesis_id FROM experiments ORDER BY name"))
        return {r[0]: r[1] for r in rows}


def test_0003_namespaces_hypotheses_and_copies_shared_ones(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "0002")
    ids = seed_0002(engine)
    command.upgrade(alembic_config(engine), "0003")
    assert current_revision(engine) == "0003"

    found = hypotheses(engine)
    shared, shop_only, unused = ids["shared"], ids["shop only"], ids["unused"]
    # The shared one stays with the first namespace (sorted) and gets one copy for the other.
    assert found[shared] == ("payments", "shared", "d")
    assert found[shop_only] == ("shop", "shop only", "d")
    assert found[unused] == ("default", "unused", "d")  # attached to nothing: `default`
    [copy_id] = set(found) - set(ids.values())
    assert found[copy_id] == ("shop", "shared", "d")
    # Every experiment keeps a hypothesis saying the same, of its own namespace.
    assert uses(engine) == {"a": copy_id, "b": shared, "c": copy_id, "d": shop_only, "e": None}
    with engine.connect() as c:
        steady = c.scalars(text("SELECT steady_state FROM hypotheses ORDER BY id")).all()
        wrong = c.scalar(
            text("SELECT count(*) FROM experiments e JOIN hypotheses h "
                 "ON e.hypothesis_id = h.id WHERE e.namespace <> h.namespace")
        )  # fmt: skip
    assert wrong == 0
    assert len({str(s) for s in steady}) == 1  # the copy carries the same criteria


def test_0003_downgrade_keeps_every_row(engine: Engine) -> None:
    command.upgrade(alembic_config(engine), "0002")
    seed_0002(engine)
    command.upgrade(alembic_config(engine), "0003")
    before = uses(engine)
    command.downgrade(alembic_config(engine), "0002")
    with engine.connect() as c:
        titles = sorted(c.scalars(text("SELECT title FROM hypotheses")))
    assert titles == ["shared", "shared", "shop only", "unused"]
    assert uses(engine) == before  # no experiment loses its hypothesis either way
    command.upgrade(alembic_config(engine), "0003")  # up again: namespaces from the uses again
    assert {ns for ns, _, _ in hypotheses(engine).values()} == {"payments", "shop", "default"}
