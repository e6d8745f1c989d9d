"""Development tasks: ``nox`` runs tests, type checks, lint and the docs build."""

import nox

nox.options.sessions = ["tests", "typecheck", "lint", "docs"]
nox.options.error_on_missing_interpreters = True


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite (pytest + hypothesis) and the doctests in the source."""
    session.install("-e", ".[tests]")
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
