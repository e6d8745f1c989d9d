"""A throw-away PgBouncer in *transaction* mode in front of one database of the tests'
PostgreSQL server: each transaction (each statement outside one) may run on another
server session, as behind a pooler in production."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from tests.storage.postgres_server import ServerUnavailable, _free_port

#: Seconds to wait for PgBouncer to listen.
START_SECONDS = 10


@contextmanager
def pgbouncer(database: str, *, server_sessions: int) -> Iterator[str]:
    """Start PgBouncer before *database* (a DSN of the tests' server) with at most
    *server_sessions* sessions to it, and yield the DSN that goes through it."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(binary):
        raise ServerUnavailable("no pgbouncer: install it (Debian: apt-get install pgbouncer)")
    target = urlsplit(database)
    name = target.path.lstrip("/")
    directory = tempfile.mkdtemp(prefix="custbill-pgbouncer-")
    run_as: list[str] = []
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(directory, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    config = os.path.join(directory, "pgbouncer.ini")
    with open(os.path.join(directory, "users.txt"), "w") as users:
        users.write(f'"{target.username}" ""\n')
    with open(config, "w") as ini:
        ini.write(
            f"[databases]\n{name} = host={target.hostname} port={target.port} dbname={name}\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n"
            f"auth_type = trust\nauth_file = {directory}/users.txt\n"
            f"pool_mode = transaction\ndefault_pool_size = {server_sessions}\n"
            f"unix_socket_dir =\nlogfile = {directory}/pgbouncer.log\n"
        )
    for path in os.listdir(directory):
        os.chmod(os.path.join(directory, path), 0o644)
    process = subprocess.Popen(
        [*run_as, binary, config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_for(port, process)
        yield f"postgresql://{target.username}@127.0.0.1:{port}/{name}"
    finally:
        process.terminate()
        process.wait(timeout=START_SECONDS)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"pgbouncer exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ServerUnavailable(f"pgbouncer did not listen within {START_SECONDS} s")
