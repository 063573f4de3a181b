"""deploy.sh run for real, from a team's repository, with stand-in docker/helm/kubectl executables.

docker, helm and kubectl are command-line collaborators, not databases: a stand-in that records how it was called
is the right double. PATH holds only a sandbox of symlinks to the system tools deploy.sh uses plus the stand-ins,
so "tool missing" is real and no real docker/helm/kubectl can be reached. The stand-ins record their argv and, for
`helm upgrade`, the mode and content of every values file while it still exists (deploy.sh deletes its own).
"""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chart import ROOT

DEPLOY = ROOT / "deploy.sh"
TOOLS = ("docker", "helm", "kubectl")
SYSTEM_TOOLS = (
    "bash", "dirname", "readlink", "mktemp", "rm", "mkdir", "cp", "mv", "find", "sort", "sha256sum", "cut", "awk",
    "grep", "tr", "od", "date", "cat",
)  # fmt: skip
DIGEST = "sha256:" + "5" * 64
STANDIN = f"""#!{sys.executable}
# Stand-in for docker/helm/kubectl: records argv as one JSON line and answers what deploy.sh asks.
import json, os, stat, sys
name, args = os.path.basename(sys.argv[0]), sys.argv[1:]
record = {{"tool": name, "argv": args}}
if name == "helm" and args[:1] == ["upgrade"]:
    files = [args[i + 1] for i, a in enumerate(args) if a == "-f"]
    record["values"] = [
        {{"path": f, "mode": oct(stat.S_IMODE(os.stat(f).st_mode)), "text": open(f, encoding="utf-8").read()}}
        for f in files
    ]
with open(os.environ["STANDIN_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(record) + "\\n")
if name == "kubectl" and args[:2] == ["config", "current-context"]:
    print("test-context")
if name == "kubectl" and "--raw=/version" in args:
    rc = int(os.environ.get("STANDIN_CLUSTER_RC", "0"))
    if rc:
        print("The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?",
              file=sys.stderr)
        print("second line that must not be shown", file=sys.stderr)
    sys.exit(rc)
if name == "docker" and args[:2] == ["image", "inspect"]:
    repo = args[-1].rsplit(":", 1)[0]
    print(f"{{repo}}@{DIGEST}")
if name == "docker" and args[:1] == ["build"]:
    context = args[-1]
    listing = sorted(os.path.relpath(os.path.join(d, f), context) for d, _, fs in os.walk(context) for f in fs)
    dockerfile = args[args.index("--file") + 1]
    with open(os.environ["STANDIN_LOG"] + ".build", "w", encoding="utf-8") as out:
        json.dump({{"files": listing, "dockerfile": open(dockerfile, encoding="utf-8").read()}}, out)
if name == "helm" and args[:1] == ["template"] and os.environ.get("STANDIN_HELM_TEMPLATE"):
    sys.stdout.write(open(os.environ["STANDIN_HELM_TEMPLATE"], encoding="utf-8").read())
if name == "helm" and args[:1] == ["upgrade"]:
    sys.exit(int(os.environ.get("STANDIN_HELM_RC", "0")))
"""


@dataclass
class Run:
    rc: int
    out: str
    err: str
    records: list[dict[str, Any]] = field(default_factory=list)
    build: dict[str, Any] | None = None

    @property
    def calls(self) -> list[list[str]]:
        return [[r["tool"], *r["argv"]] for r in self.records]

    def tool_calls(self, tool: str) -> list[list[str]]:
        return [r["argv"] for r in self.records if r["tool"] == tool]

    def upgrade(self) -> dict[str, Any]:
        (record,) = [r for r in self.records if r["tool"] == "helm" and r["argv"][:2] == ["upgrade", "--install"]]
        return record

    def deploy_values(self) -> dict[str, Any]:
        """The values file deploy.sh wrote itself (the last -f of `helm upgrade`), parsed."""
        import yaml

        last = self.upgrade()["values"][-1]
        assert last["mode"] == "0o600", f"deploy.sh's own values file is {last['mode']}, not 0600"
        loaded: dict[str, Any] = yaml.safe_load(last["text"])
        return loaded


@dataclass
class Sandbox:
    bin: Path
    repo: Path

    @property
    def log(self) -> Path:
        return self.bin.parent / "calls.log"

    def add_standins(self, tools: tuple[str, ...] = TOOLS) -> None:
        for tool in tools:
            script = self.bin / tool
            script.write_text(STANDIN, encoding="utf-8")
            script.chmod(0o755)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": str(self.bin),
            "STANDIN_LOG": str(self.log),
            "PYTHON": sys.executable,
            "HOME": str(self.bin.parent),
            "TMPDIR": str(self.bin.parent),
            "LC_ALL": "C.UTF-8",
            **extra,
        }

    def _result(self, rc: int, out: str, err: str) -> Run:
        records = []
        if self.log.exists():
            records = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
        build_log = Path(f"{self.log}.build")
        build = json.loads(build_log.read_text(encoding="utf-8")) if build_log.exists() else None
        for path in (self.log, build_log):
            path.unlink(missing_ok=True)
        return Run(rc, out, err, records, build)

    def deploy(self, *args: str, **extra: str) -> Run:
        proc = subprocess.run(
            [str(self.bin / "bash"), str(DEPLOY), *args],
            cwd=self.repo,
            env=self.env(**extra),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return self._result(proc.returncode, proc.stdout, proc.stderr)

    def deploy_on_tty(self, answers: list[str], *args: str) -> Run:
        """Run deploy.sh with a terminal on stdin/stderr, typing one answer at each of its prompts."""
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [str(self.bin / "bash"), str(DEPLOY), *args],
            cwd=self.repo,
            env=self.env(),
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        seen, pending, deadline = b"", list(answers), time.monotonic() + 60
        prompts = 0
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if pending and seen.count(b"to destroy it: ") > prompts:
                prompts += 1
                os.write(master, pending.pop(0).encode() + b"\n")
            if proc.poll() is not None and not ready:
                break
        out = proc.communicate(timeout=30)[0].decode()
        os.close(master)
        return self._result(proc.returncode, out, seen.decode(errors="replace"))


def make_sandbox(tmp_path: Path) -> Sandbox:
    """A bin dir with only the system tools deploy.sh needs, and a team repository in the seed's layout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in SYSTEM_TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run deploy.sh"
        (bin_dir / tool).symlink_to(found)
    repo = tmp_path / "team"
    lay_out_seed_repo(repo)
    return Sandbox(bin_dir, repo)


EXAMPLE = ROOT / "examples" / "seed-layout"


def lay_out_seed_repo(repo: Path) -> Path:
    """A team repository shaped like the seed: a copy of examples/seed-layout (dbmate files, plain CQL, the README
    contract, harness.toml), without its Dockerfile, so deploy.sh generates one unless a test puts it back."""
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("Dockerfile", "__pycache__", ".pytest_cache"))
    return repo
