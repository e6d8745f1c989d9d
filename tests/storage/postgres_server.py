"""A throw-away PostgreSQL server for the tests: initdb into a temporary directory, listening
on 127.0.0.1 on a free port, stopped and deleted afterwards."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server could be started here."""


def _binaries() -> str:
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise ServerUnavailable(
            "no initdb: install PostgreSQL (Debian: apt-get install postgresql)"
        )
    return os.path.dirname(candidates[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server and yield the DSN of its ``postgres`` database (user ``custbill``)."""
    bindir = _binaries()
    run_as: list[str] = []
    directory = tempfile.mkdtemp(prefix="custbill-pg-")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ServerUnavailable("running as root and there is no postgres user") from exc
        os.chown(directory, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, log, port = os.path.join(directory, "data"), os.path.join(directory, "log"), _free_port()

    def run(*command: str) -> None:
        done = subprocess.run([*run_as, *command], capture_output=True, text=True, check=False)
        if done.returncode:
            raise ServerUnavailable(f"{command[0]} failed: {done.stderr or done.stdout}")

    try:
        run(
            f"{bindir}/initdb",
            "-D",
            data,
            "-U",
            "custbill",
            "-A",
            "trust",
            "--locale=C",
            "-E",
            "UTF8",
            "--no-sync",
        )
        run(
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-l",
            log,
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -h 127.0.0.1 -k {directory} -c fsync=off",
            "start",
        )
        try:
            yield f"postgresql://custbill@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                capture_output=True,
                check=False,
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
