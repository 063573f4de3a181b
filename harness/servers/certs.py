"""Throwaway certificates for local servers started with TLS on: a CA, a server and a client certificate.

Made with the ``openssl`` command line (no Python dependency), valid two days, for the loopback addresses the local
servers listen on. Cassandra reads Java key stores: ``keytool`` (the JDK's, which Cassandra needs anyway) imports the
server's key and certificate into one and the CA into a trust store. Test servers only: the keys are not protected
beyond their files' permissions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ServerError

HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "localhost")


@dataclass(frozen=True)
class Certificates:
    """PEM files: the CA that signed the others, the server's (for HOSTS) and a client's certificate and key."""

    ca: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


@dataclass(frozen=True)
class JavaStores:
    """The server's key store (key and certificate chain) and a trust store holding the CA, one password for both."""

    keystore: Path
    truststore: Path
    password: str


def _run(*command: str, cwd: Path) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise ServerError(f"TLS for a local test server needs `{command[0]}` on PATH")
    done = subprocess.run([tool, *command[1:]], cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise ServerError(f"`{' '.join(command[:3])} ...` failed: {(done.stderr or done.stdout).strip()[-500:]}")


def _key_and_request(name: str, subject: str, directory: Path) -> None:
    _run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory)  # fmt: skip


def _sign(name: str, extensions: str, directory: Path) -> None:
    (directory / f"{name}.ext").write_text(extensions)
    _run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-days", "2", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=directory)  # fmt: skip


def make_certificates(
    directory: Path, *, hosts: tuple[str, ...] = HOSTS, name: str = "harness test CA"
) -> Certificates:
    """A fresh CA and, signed by it, a server certificate naming ``hosts`` and a client certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", f"/CN={name}", cwd=directory)  # fmt: skip
    names = ",".join(f"IP:{h}" if h[0].isdigit() else f"DNS:{h}" for h in hosts)
    _key_and_request("server", f"/CN={hosts[0]}", directory)
    _sign("server", f"subjectAltName={names}\nextendedKeyUsage=serverAuth\n", directory)
    _key_and_request("client", "/CN=harness test client", directory)
    _sign("client", "extendedKeyUsage=clientAuth\n", directory)
    for key in directory.glob("*.key"):
        key.chmod(0o600)
    return Certificates(*(directory / f for f in ("ca.crt", "ca.key", "server.crt", "server.key", "client.crt",
                                                   "client.key")))  # fmt: skip


def java_stores(certs: Certificates, directory: Path, password: str) -> JavaStores:
    """The server's key and chain in a JKS key store (via PKCS#12 and keytool) and the CA in a trust store."""
    _run("openssl", "pkcs12", "-export", "-in", str(certs.server_cert), "-inkey", str(certs.server_key),
         "-certfile", str(certs.ca), "-name", "node", "-out", "node.p12", "-passout", f"pass:{password}",
         cwd=directory)  # fmt: skip
    stores = JavaStores(directory / "keystore.jks", directory / "truststore.jks", password)
    for store in (stores.keystore, stores.truststore):
        store.unlink(missing_ok=True)
    _run("keytool", "-importkeystore", "-noprompt", "-srckeystore", "node.p12", "-srcstoretype", "PKCS12",
         "-srcstorepass", password, "-destkeystore", str(stores.keystore), "-deststoretype", "JKS",
         "-deststorepass", password, cwd=directory)  # fmt: skip
    _run("keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", str(certs.ca), "-keystore",
         str(stores.truststore), "-storetype", "JKS", "-storepass", password, cwd=directory)  # fmt: skip
    (directory / "node.p12").unlink()
    return stores


def give_to(paths: list[Path], uid: int, gid: int) -> None:
    """Hand files to the account a server runs as (PostgreSQL refuses a key another user owns)."""
    for path in paths:
        os.chown(path, uid, gid)
