"""Schemathesis in GraphQL mode: queries and mutations generated from the committed
schema, sent anonymously and with a token. Whatever they hold, never a server error.
``make test`` runs a few hundred; ``make fuzz`` many more (FABCOM_FUZZ_EXAMPLES)."""

from __future__ import annotations

import datetime as dt
import os
import warnings

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from fabcom.gql.schema import sdl
from fabcom.inventory.services import create_item

EXAMPLES_PER_OPERATION = int(os.environ.get("FABCOM_FUZZ_EXAMPLES", "10"))

# Strawberry's scalars are strings on the wire: valid values and garbage alike.
_garbage = st.text(max_size=30)
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str), _garbage).map(nodes.String),
)
schemathesis.graphql.scalar("Date", st.one_of(st.dates().map(str), _garbage).map(nodes.String))
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat), _garbage).map(nodes.String),
)
schemathesis.graphql.scalar("JSON", st.one_of(_garbage.map(nodes.String), st.integers().map(nodes.Int)))


# `make test` draws the same examples every run (a red CI then means a regression, and
# is reproducible); `make fuzz` sets FABCOM_FUZZ_RANDOM=1 to explore new ones.
DERANDOMIZE = os.environ.get("FABCOM_FUZZ_RANDOM") != "1"


def generated_bodies() -> list[tuple[str, str]]:
    schema = schemathesis.graphql.from_file(sdl())
    bodies: list[tuple[str, str]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for result in schema.get_all_operations():
            operation = result.ok()
            name = operation.verbose_name

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                derandomize=DERANDOMIZE,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
                deadline=None,
            )
            @given(operation.as_strategy())
            def collect(case) -> None:
                bodies.append((name, case.body))  # noqa: B023 - collect() runs before the loop moves on

            collect()
    return bodies


async def test_generated_operations_never_cause_a_server_error(api, db, org_a, staff_a, token_for, monkeypatch):
    monkeypatch.setattr(db, "api_rate_limit", 10**9)
    monkeypatch.setattr(db, "api_rate_limit_anonymous", 10**9)
    await create_item(staff_a, org_a.id, {"title": "Chaise", "visibility": "public", "initial_quantity": "2"})
    token = await token_for(staff_a)
    bodies = generated_bodies()
    assert len(bodies) >= 27 * EXAMPLES_PER_OPERATION
    for n, (operation, query) in enumerate(bodies):
        answer = await api(query, token=token if n % 2 else None)
        assert answer.status < 500, (operation, query, answer.body)
        assert "INTERNAL_SERVER_ERROR" not in answer.error_codes, (operation, query, answer.body)
        assert "data" in answer.body or answer.body.get("errors"), (operation, query, answer.body)


def test_fuzzing_covers_every_root_field():
    schema = schemathesis.graphql.from_file(sdl())
    names = {result.ok().verbose_name for result in schema.get_all_operations()}
    assert "Query.items" in names
    assert "Mutation.itemCreate" in names
