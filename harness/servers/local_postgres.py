"""PostgreSQL from the machine's own binaries, in a temporary directory, on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness.errors import ServerError
from harness.servers.base import PostgresServer, Provider
from harness.servers.certs import Certificates
from harness.servers.procutil import child_preexec, free_port, log_tail

DEBIAN_GLOB = "/usr/lib/postgresql/*/bin"
INSTALL_HINT = "install PostgreSQL's server (Debian: apt-get install postgresql-15) or pass --pg-bin-dir"


def find_bindir(explicit: str | Path | None = None, *, debian_glob: str = DEBIAN_GLOB) -> Path:
    """Locate initdb/postgres; an error lists every place looked at, because 'not found' alone helps nobody."""
    tried: list[str] = []
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    env = os.environ.get("HARNESS_PG_BINDIR")
    if env:
        candidates.append(Path(env))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            tried.append(f"{pg_config} --bindir (failed to run)")
    else:
        tried.append("pg_config on PATH (not found)")
    candidates.extend(sorted(Path("/").glob(debian_glob.lstrip("/")), reverse=True))
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    for cand in candidates:
        if (cand / "initdb").is_file() and (cand / "postgres").is_file():
            return cand
        tried.append(f"{cand} (no initdb/postgres there)")
    if not any(t.startswith(debian_glob.split("*")[0]) for t in tried):
        tried.append(f"{debian_glob} (no match)")
    listing = "; ".join(tried)
    raise ServerError(f"PostgreSQL server binaries not found. Looked at: {listing}. To fix: {INSTALL_HINT}")


def _unprivileged_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root; borrow the packaged 'postgres' account, else 'nobody'."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServerError("running as root and neither a 'postgres' nor a 'nobody' account exists to run PostgreSQL")


def _workdir_base(user: pwd.struct_passwd | None) -> str | None:
    """The temp dir, unless the unprivileged user cannot reach it (a root-only TMPDIR): then /tmp."""
    base = Path(tempfile.gettempdir())
    if user is None:
        return None
    for part in [base, *base.parents]:
        st = part.stat()
        if not (st.st_mode & 0o001 or (st.st_uid == user.pw_uid and st.st_mode & 0o100)):
            return "/tmp"
    return None


def _run_as(user: pwd.struct_passwd | None) -> dict[str, object]:
    """subprocess arguments that drop to ``user``, with no supplementary groups left over from root."""
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}


def _initdb_command(bindir: Path, data: Path, pwfile: Path) -> list[str]:
    """scram with the password from ``pwfile``; C locale and UTF8 so results do not depend on the machine."""
    return [
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "-A",
        "scram-sha-256",
        f"--pwfile={pwfile}",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
    ]


def _postgres_command(bindir: Path, data: Path, port: int, tls_args: list[str]) -> list[str]:
    """Durability off: the cluster is thrown away, so speed is all that matters."""
    return [
        str(bindir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        "",  # no Unix socket: clients use TCP, and deep temp paths exceed the socket path limit
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=64MB",
        "-c",
        "log_min_messages=warning",
        *tls_args,
    ]


class LocalPostgres(Provider[PostgresServer]):
    """One throwaway cluster: initdb, start, and on stop kill it and delete every file."""

    def __init__(
        self,
        *,
        bindir: str | Path | None = None,
        timeout: float = 30.0,
        log: Callable[[str], None] = lambda _msg: None,
        tls: bool = False,
    ) -> None:
        self.bindir = find_bindir(bindir)
        self.tls = tls  # TLS only (hostssl), with certificates made at start; the URL says verify-full
        self.certificates: Certificates | None = None
        self.timeout = timeout
        self.log = log
        self.workdir: Path | None = None
        self.password = ""
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> PostgresServer:
        started = time.monotonic()
        user = _unprivileged_user()
        self.workdir = Path(tempfile.mkdtemp(prefix="harness-pg-", dir=_workdir_base(user)))
        data = self.workdir / "data"
        logfile = self.workdir / "postgres.log"
        os.chmod(self.workdir, 0o755)
        if user:
            os.chown(self.workdir, user.pw_uid, user.pw_gid)
        # A random password and scram, not `trust`: any local user could otherwise connect as superuser.
        self.password = secrets.token_urlsafe(24)
        self._initdb(data, user)
        tls_args, tls_query = self._tls_only(data, user) if self.tls else ([], "")
        port = free_port()
        self.log(f"postgres: starting {self.bindir.parent.name} on 127.0.0.1:{port}")
        self._spawn(_postgres_command(self.bindir, data, port, tls_args), logfile, user)
        url = f"postgresql://postgres:{self.password}@127.0.0.1:{port}/postgres{tls_query}"
        version = self._wait_ready(url, logfile)
        self.log(f"postgres: ready in {time.monotonic() - started:.1f}s ({version})")
        return PostgresServer(url=url, version=version, provider="local")

    def _initdb(self, data: Path, user: pwd.struct_passwd | None) -> None:
        """The password reaches initdb in a file only it can read, gone as soon as initdb is done."""
        assert self.workdir is not None
        pwfile = self.workdir / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if user:
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        init = subprocess.run(
            _initdb_command(self.bindir, data, pwfile),
            capture_output=True,
            text=True,
            cwd=self.workdir,
            **_run_as(user),  # type: ignore[call-overload]
        )
        pwfile.unlink(missing_ok=True)
        if init.returncode != 0:
            self.stop()
            raise ServerError(f"initdb failed ({init.returncode}): {init.stderr.strip()[-2000:]}")

    def _spawn(self, command: list[str], logfile: Path, user: pwd.struct_passwd | None) -> None:
        """In a session of its own, so stop can signal the whole process group."""
        with open(logfile, "wb") as out:
            if user:
                os.chown(logfile, user.pw_uid, user.pw_gid)
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
                preexec_fn=child_preexec(),
                **_run_as(user),  # type: ignore[call-overload]
            )

    def _tls_only(self, data: Path, user: pwd.struct_passwd | None) -> tuple[list[str], str]:
        """A server certificate made now, every TCP line of pg_hba.conf made hostssl; the URL's verify-full query."""
        from harness.servers.certs import give_to, make_certificates

        assert self.workdir is not None
        certs = self.certificates = make_certificates(self.workdir / "tls")
        if user:
            give_to([certs.server_cert, certs.server_key], user.pw_uid, user.pw_gid)
        hba = data / "pg_hba.conf"
        hba.write_text(re.sub(r"(?m)^host(\s)", r"hostssl\1", hba.read_text()))
        args = ["-c", "ssl=on", "-c", f"ssl_cert_file={certs.server_cert}", "-c", f"ssl_key_file={certs.server_key}"]
        return args, f"?sslmode=verify-full&sslrootcert={certs.ca}"

    def _wait_ready(self, url: str, logfile: Path) -> str:
        import psycopg

        from harness.stores.postgres.conn import server_version

        deadline = time.monotonic() + self.timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            code = self.proc.poll()
            if code is not None:
                tail = log_tail(logfile)
                self.stop()
                raise ServerError(f"postgres exited with {code} during start-up:\n{tail}")
            try:
                return server_version(url, timeout=2)
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.05)
        tail = log_tail(logfile)
        self.stop()
        raise ServerError(f"postgres not ready after {self.timeout:.0f}s ({last}):\n{tail}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc and proc.poll() is None:
            # SIGQUIT is PostgreSQL's immediate shutdown: nothing here is worth a checkpoint.
            try:
                os.killpg(proc.pid, signal.SIGQUIT)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        workdir, self.workdir = self.workdir, None
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
