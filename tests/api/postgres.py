"""A throwaway PostgreSQL cluster from Debian's packages, for tests and benchmarks.

initdb refuses to run as root, so the server runs as the `postgres` user in a private temporary
directory, listens on 127.0.0.1 on a free port, and is always stopped and removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

from tests.support.net import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "faultline"


def _as_postgres(*args: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True)


@contextlib.contextmanager
def postgres_server(also_listen: str = "", trust_from: str = "") -> Iterator[str]:
    """Yields a SQLAlchemy URL prefix `postgresql+psycopg://faultline@127.0.0.1:<port>`.

    `also_listen`: one more address to listen on, and `trust_from`: a CIDR whose clients are let
    in without a password (e.g. a local cluster's node address and its pod network)."""
    root = Path(tempfile.mkdtemp(prefix="faultline-pg-"))
    pg = pwd.getpwnam("postgres")
    os.chown(root, pg.pw_uid, pg.pw_gid)
    data = root / "data"
    port = free_port()
    started = False
    try:
        _as_postgres(
            str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        if trust_from:
            with open(data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {trust_from} trust\n")
        listen = ",".join(filter(None, ["127.0.0.1", also_listen]))
        options = f"-p {port} -k {root} -c listen_addresses={listen} -c fsync=off"
        started = True
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options,
            "-w", "start",
        )  # fmt: skip
        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}"
    finally:
        if started:
            with contextlib.suppress(subprocess.CalledProcessError):
                _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """Creates an empty database on the server and drops it afterwards; yields its URL."""
    name = "fl_" + secrets.token_hex(6)
    admin = server_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
