"""A fuzz harness over what reads outside data: ``from_dict``, ``from_json`` and the
scenario loader.  Whatever they are given, they answer with the object or
:class:`~custbill.InvalidDataError` — nothing else escapes — and what they accept writes
out and reads back equal.

Inputs are valid documents (from the model's strategies and the example scenarios) with
random parts replaced by hostile values, and arbitrary JSON and text.  The test suite runs
each target briefly; ``nox -s fuzz`` runs them long (``nox -s fuzz -- 100000`` for 100,000
examples a target) and prints how many examples each ran.
"""

from __future__ import annotations

import contextlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custbill as cb
from custbill.serialization import from_dict, from_json, to_dict
from custbill.simulation import load_scenario, parse_scenario
from tests.strategies import MODEL_STRATEGIES, Deep, built, hostile

#: Examples a target runs (``nox -s fuzz`` sets it from its argument).
EXAMPLES = int(os.environ.get("CUSTBILL_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _json(value: Any) -> str:
    """JSON text of *value*, however deep its :class:`Deep` parts (written out as
    brackets, which the encoder cannot nest past its recursion limit)."""
    marks: dict[str, int] = {}

    def mark(deep: Deep) -> str:
        key = f"@deep{len(marks)}@"
        marks[key] = deep.depth
        return key

    def marked(inner: Any) -> Any:
        if isinstance(inner, Deep):
            return mark(inner)
        if isinstance(inner, dict):
            return {key: marked(v) for key, v in inner.items()}
        if isinstance(inner, list):
            return [marked(v) for v in inner]
        return inner

    text = json.dumps(marked(value), ensure_ascii=False, default=str)
    for key, depth in marks.items():
        text = text.replace(json.dumps(key), "[" * depth + "]" * depth)
    return text


#: How deep mutations reach into a document (a hostile value may nest thousands deep).
MUTATION_DEPTH = 20


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON-like value (the value itself included), down to
    MUTATION_DEPTH."""
    found = [path]
    if len(path) >= MUTATION_DEPTH:
        return found
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*path, i))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> Any:
    """A document with one to three places replaced by hostile values (or removed, or
    given an unknown key)."""
    document = draw(documents)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        action = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        if action == "replace":
            document = _replace(document, path, draw(hostile))
        elif action == "drop" and path:
            parent = path[:-1]
            container = document
            for step in parent:
                container = container[step]
            if isinstance(container, dict):
                document = _replace(
                    document, parent, {k: v for k, v in container.items() if k != path[-1]}
                )
        elif action == "add":
            document = _replace(document, path, {"unknown": draw(hostile)})
    return document


MODEL_TYPES = sorted(MODEL_STRATEGIES, key=lambda cls: cls.__name__)
documents = st.sampled_from(MODEL_TYPES).flatmap(
    lambda cls: st.tuples(st.just(cls), MODEL_STRATEGIES[cls].map(to_dict))
)


def _read_back(cls: type, loaded: Any) -> None:
    """What a loader accepted writes out and reads back equal."""
    assert type(loaded) is cls
    assert from_dict(cls, to_dict(loaded)) == loaded


@FUZZ
@given(
    st.sampled_from(MODEL_TYPES),
    st.one_of(documents.flatmap(lambda d: mutated(st.just(d[1]))), json_values),
)
def test_from_dict_answers_or_refuses(cls: type, data: Any) -> None:
    try:
        loaded = from_dict(cls, built(data))
    except cb.InvalidDataError:
        return
    _read_back(cls, loaded)


@FUZZ
@given(
    documents.flatmap(
        lambda d: st.tuples(
            st.just(d[0]),
            st.one_of(
                mutated(st.just(d[1])).map(_json),
                st.text(),
                st.binary(),
            ),
        )
    )
)
def test_from_json_answers_or_refuses(case: tuple[type, str | bytes]) -> None:
    cls, text = case
    try:
        loaded = from_json(cls, text)
    except cb.InvalidDataError:
        return
    _read_back(cls, loaded)


def _example_scenarios() -> list[Any]:
    scenarios: list[Any] = []
    for path in sorted(EXAMPLES_DIR.glob("*")):
        if path.suffix == ".toml":
            scenarios.append(tomllib.loads(path.read_text()))
        elif path.suffix == ".json":
            scenarios.append(json.loads(path.read_text()))
    return scenarios


scenarios = st.sampled_from(_example_scenarios())


@FUZZ
@given(st.one_of(mutated(scenarios), json_values))
def test_the_scenario_loader_answers_or_refuses(data: Any) -> None:
    try:
        scenario = parse_scenario(built(data))
    except cb.InvalidDataError:
        return
    assert scenario.months >= 1


@settings(FUZZ, max_examples=max(EXAMPLES // 10, 20))
@given(mutated(scenarios), st.sampled_from([".json", ".toml"]), st.binary(max_size=200))
def test_scenario_files_answer_or_refuse(
    tmp_path_factory: Any, data: Any, suffix: str, noise: bytes
) -> None:
    """A scenario file of any bytes — a mutated scenario, or noise — loads or is refused."""
    folder = tmp_path_factory.mktemp("scenario")
    path = folder / f"scenario{suffix}"
    text = _json(data) if suffix == ".json" else _toml(data)
    path.write_bytes(text.encode("utf-8", "surrogatepass") + noise[: len(noise) // 4])
    with contextlib.suppress(cb.InvalidDataError):
        load_scenario(path)


def _toml(data: Any) -> str:
    """A TOML rendering of *data* good enough to fuzz with (values as JSON text)."""
    lines = []
    for key, value in data.items() if isinstance(data, dict) else []:
        lines.append(f"{json.dumps(str(key))} = {_json(value)}")
    return "\n".join(lines)
