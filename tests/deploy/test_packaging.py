"""A team that pip-installed the harness has the chart and deploy.sh: the wheel ships them and harness.deploy
finds them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import harness.deploy
from harness.deploy import chart_dir, deploy_script, render_script

from .chart import ROOT

pytestmark = pytest.mark.deploy

ASSETS = "harness/deploy/"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (built,) = out.glob("*.whl")
    return zipfile.ZipFile(built)


def chart_files() -> list[str]:
    return sorted(str(p.relative_to(ROOT / "harness")) for p in chart_dir().rglob("*") if p.is_file())


def test_the_wheel_holds_the_chart_deploy_sh_and_the_renderer(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    wanted = {f"harness/{f}" for f in chart_files()}
    assert (
        f"{ASSETS}helm/migrations/.helmignore" in wanted
        and f"{ASSETS}helm/migrations/templates/tests/drift.yaml" in wanted
    )
    assert wanted <= names, f"missing from the wheel: {sorted(wanted - names)}"
    for script in ("deploy.sh", "checks.sh", "render.py", "layout.py", "__init__.py"):
        assert f"{ASSETS}{script}" in names
    mode = wheel.getinfo(f"{ASSETS}deploy.sh").external_attr >> 16
    assert mode & stat.S_IXUSR, "deploy.sh stays executable"


def test_the_repository_links_its_top_level_paths_to_the_packaged_assets() -> None:
    assert (ROOT / "deploy.sh").resolve() == deploy_script()
    assert (ROOT / "helm" / "migrations").resolve() == chart_dir()
    assert (ROOT / "deploy" / "render.py").resolve() == render_script()
    assert Path(harness.deploy.__file__).parent / "deploy.sh" == deploy_script()


def test_installed_assets_are_found_and_runnable(wheel: zipfile.ZipFile, tmp_path: Path) -> None:
    """Unpacked as pip installs it (no repository around): the functions point at real, usable files."""
    site = tmp_path / "site"
    wheel.extractall(site)
    for info in wheel.infolist():
        os.chmod(site / info.filename, (info.external_attr >> 16) or 0o644)
    probe = (
        "import harness.deploy as d, json; "
        "print(json.dumps([str(d.chart_dir()), str(d.deploy_script()), str(d.render_script())]))"
    )
    env = {"PYTHONPATH": str(site), "PATH": os.environ["PATH"]}
    # -S and cwd: neither the editable install nor the repository itself can answer instead.
    out = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    chart, script, render = (Path(p) for p in json.loads(out.stdout))
    assert chart == site / "harness/deploy/helm/migrations" and (chart / "Chart.yaml").is_file()
    help_text = subprocess.run(["bash", str(script), "--help"], capture_output=True, text=True, check=True).stdout
    assert "--postgres-migrations" in help_text
    rendered = subprocess.run([sys.executable, str(render), "--chart", str(chart)], capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    assert "migrations-postgres-migrations" in rendered.stdout


def test_a_missing_asset_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(harness.deploy, "files", lambda _: tmp_path)
    with pytest.raises(FileNotFoundError, match="reinstall harness"):
        harness.deploy.chart_dir()


def test_exec_deploy_runs_the_packaged_script_with_this_python(tmp_path: Path) -> None:
    """`harness deploy ...` is exec_deploy: deploy.sh finds the settings and renders with this interpreter."""
    from .sandbox import lay_out_seed_repo

    repo = lay_out_seed_repo(tmp_path / "team")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON"}
    code = "import sys; from harness.deploy import exec_deploy; exec_deploy(sys.argv[1:])"
    proc = subprocess.run(
        [sys.executable, "-c", code, "--dry-run", "-i", "registry.example/team/migrations"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert 'image: "registry.example/team/migrations:m-' in proc.stdout
