"""Development tasks: ``nox`` runs tests, type checks, lint and the docs build."""

import nox

nox.options.sessions = ["tests", "typecheck", "lint", "docs"]
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest + hypothesis), the doctests in the source, and the
    example notebook (examples/explore.ipynb, executed by tests/test_notebook.py)."""
    session.install("-e", ".[tests,postgres,plot]")
    session.run("pytest", *session.posargs)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and on the typing examples of the public API."""
    session.install(".[typecheck]")
    session.run("mypy")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff's checks and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors, then run their doctests."""
    session.install(".[docs]")
    common = ["-W", "--keep-going", "-n", "-q", "docs"]
    session.run("sphinx-build", "-b", "html", *common, "docs/_build/html")
    session.run("sphinx-build", "-b", "doctest", *common, "docs/_build/doctest")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (not a default session): ``nox -s bench -- --quick``."""
    session.install(".[postgres]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """The fuzz harness over the loaders, long (not a default session; the tests run it
    briefly): ``nox -s fuzz -- 100000`` runs that many examples a target (20,000 by
    default) and prints how many each ran."""
    session.install("-e", ".[tests,postgres]")
    examples = session.posargs[0] if session.posargs else "20000"
    session.run(
        "pytest",
        "tests/fuzz",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-show-statistics",
        env={"CUSTBILL_FUZZ_EXAMPLES": examples},
    )
