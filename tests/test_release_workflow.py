"""release.yml: builds the plugin on every os/arch the engine can download, names each archive as the
engine expects, checks the tag against VERSION and main, gates each archive on what it holds, attests
every file, and publishes to npm, to PyPI (both Python packages) and the Go SDK's tag. Shell steps whose
behaviour matters (the tag check, the sorting of the Python packages, the release that replaces nothing)
are run here against stand-in files."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from workflows import (
    ARCHIVE_NAME,
    BASH,
    PLUGIN,
    RUNNERS,
    VERSION,
    WORKFLOWS,
    bom,
    debian_root,
    evaluate,
    job_env,
    jobs_running,
    load,
    render,
    runs,
    steps,
    the_job_running,
    the_step,
    upstream,
    uses,
)

# --- (b) the release matrix and the archive names ------------------------------------------------------


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    return load("release.yml")


def plugin_job(release: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = the_job_running(release["jobs"], r"scripts/release\s+.*--only[ =]plugin")
    return name, release["jobs"][name]


def test_release_matrix_covers_the_six_os_arch_pairs_on_native_runners(release: dict[str, Any]) -> None:
    _, job = plugin_job(release)
    include = job["strategy"]["matrix"]["include"]
    pairs = [(entry["os"], entry["arch"]) for entry in include]
    assert sorted(pairs) == sorted(RUNNERS), f"matrix pairs: {pairs}"
    assert len(set(pairs)) == len(pairs), "a pair is built twice"
    runs_on = job["runs-on"]
    for entry in include:
        runner = render(runs_on, {"matrix": entry}) if isinstance(runs_on, str) else runs_on
        assert runner in RUNNERS[(entry["os"], entry["arch"])], f"{entry['os']}-{entry['arch']} builds on {runner}"


def test_release_archives_follow_the_engine_naming(release: dict[str, Any]) -> None:
    _, job = plugin_job(release)
    assert re.search(r"scripts/release\s+--only plugin\s+--out dist\b", runs(job))
    (upload,) = uses(job, "actions/upload-artifact")
    for entry in job["strategy"]["matrix"]["include"]:
        context = {"matrix": entry, "needs": {"version": {"outputs": {"version": VERSION}}}, "github": {"ref_name": f"v{VERSION}"}}
        context["env"] = job_env(job, context)
        paths = render(str(upload["with"]["path"]), context).split()
        assert all(path.startswith("dist/") for path in paths), f"uploads {paths}, not files of dist/"
        name = Path(paths[0]).name
        assert [Path(path).name for path in paths] == [name, bom.bom_name(name)], "the archive and its bill of materials, together"
        match = ARCHIVE_NAME.match(name)
        assert match, f"{name} does not follow {PLUGIN}-v<version>-<os>-<arch>.tar.gz"
        assert (match["version"], match["os"], match["arch"]) == (VERSION, entry["os"], entry["arch"])
        if "EXECUTABLE" in context["env"]:  # the executable the archive check looks for
            exe = context["env"]["EXECUTABLE"]
            assert exe == PLUGIN + (".exe" if entry["os"] == "windows" else ""), exe


def test_every_archive_reaches_the_release(release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    plugin, job = plugin_job(release)
    packages = the_job_running(jobs, r"scripts/release\s+.*--only[ =]packages")
    assert plugin in upstream(jobs, packages)
    (upload,) = uses(job, "actions/upload-artifact")
    (download,) = [d for d in uses(jobs[packages], "actions/download-artifact") if "pattern" in d.get("with", {})]
    entry = job["strategy"]["matrix"]["include"][0]
    uploaded_as = render(str(upload["with"]["name"]), {"matrix": entry})
    assert fnmatch.fnmatch(uploaded_as, download["with"]["pattern"])
    assert download["with"].get("merge-multiple") is True and download["with"]["path"] == "dist"
    # the archives are in dist before the packages step writes checksums.txt over it
    order = [s.get("uses", "").split("@")[0] or s.get("run", "") for s in steps(jobs[packages])]
    build_at = next(i for i, s in enumerate(order) if "--only packages" in s)
    assert order.index("actions/download-artifact") < build_at
    creator = the_job_running(jobs, r"gh release (create|upload)")
    assert packages in upstream(jobs, creator)
    assert re.search(r"gh release create \"?\$\{?TAG\}?\"? dist/\*", runs(jobs[creator]))


# --- (b2) each archive tried before the release is created --------------------------------------------


TRIED = re.compile(r"python scripts/try_plugin\.py")
IMAGES = {"debian:11", "rockylinux:9", "amazonlinux:2023"}  # glibc 2.31, 2.34, 2.34


def try_jobs(release: dict[str, Any]) -> tuple[str, str]:
    """(the job trying each archive on its runner, the job trying linux-amd64 in containers)."""
    jobs = release["jobs"]
    tried = jobs_running(jobs, TRIED.pattern)
    in_containers = [name for name in tried if "docker run" in runs(jobs[name])]
    on_runners = [name for name in tried if name not in in_containers]
    assert len(on_runners) == 1 and len(in_containers) == 1, f"jobs running try_plugin.py: {tried}"
    return on_runners[0], in_containers[0]


def uploaded_artifact(release: dict[str, Any], entry: dict[str, Any]) -> str:
    _, job = plugin_job(release)
    (upload,) = uses(job, "actions/upload-artifact")
    return render(str(upload["with"]["name"]), {"matrix": entry})


def archive_context(entry: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {"matrix": entry, "needs": {"version": {"outputs": {"version": VERSION}}}}
    context["env"] = job_env(job, context)
    return context


def test_every_archive_is_tried_on_a_runner_of_its_os_arch_before_the_release(release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    plugin, built = plugin_job(release)
    tryer, _ = try_jobs(release)
    job = jobs[tryer]
    assert plugin in upstream(jobs, tryer)
    assert tryer in upstream(jobs, the_job_running(jobs, r"gh release (create|upload)")), "the release is created before the archives are tried"
    built_on = {(e["os"], e["arch"]): render(built["runs-on"], {"matrix": e}) for e in built["strategy"]["matrix"]["include"]}
    include = job["strategy"]["matrix"]["include"]
    assert sorted((e["os"], e["arch"]) for e in include) == sorted(RUNNERS)
    (download,) = uses(job, "actions/download-artifact")
    step = the_step(job, TRIED.pattern)
    for entry in include:
        pair = (entry["os"], entry["arch"])
        assert render(job["runs-on"], {"matrix": entry}) == built_on[pair], f"{pair} is tried on another runner than it is built on"
        assert render(str(download["with"]["name"]), {"matrix": entry}) == uploaded_artifact(release, entry)
        env = archive_context(entry, job)["env"]
        assert ARCHIVE_NAME.match(env["ARCHIVE"]) and env["ARCHIVE"].endswith(f"-{entry['os']}-{entry['arch']}.tar.gz")
        assert env["EXECUTABLE"] == PLUGIN + (".exe" if entry["os"] == "windows" else "")
    assert re.search(r'tar -xzf "dist/\$ARCHIVE" -C plugin\n\s*python scripts/try_plugin\.py "plugin/\$EXECUTABLE"', step["run"]), step["run"]


def test_linux_amd64_archive_is_tried_in_containers_of_older_systems(release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    plugin, _ = plugin_job(release)
    _, in_containers = try_jobs(release)
    job = jobs[in_containers]
    assert plugin in upstream(jobs, in_containers)
    assert in_containers in upstream(jobs, the_job_running(jobs, r"gh release (create|upload)"))
    assert set(job["strategy"]["matrix"]["image"]) == IMAGES
    assert job["runs-on"].startswith("ubuntu-"), "containers of linux/amd64 images need an amd64 Linux runner"
    (download,) = uses(job, "actions/download-artifact")
    assert download["with"]["name"] == uploaded_artifact(release, {"os": "linux", "arch": "amd64"})
    step = the_step(job, TRIED.pattern)
    # The plugin in the container, on the host's network, where the emulator and the driver run.
    assert re.search(r'--prefix "docker run --rm --network host -v \$PWD/plugin:/plugin:ro \$IMAGE"', step["run"]), step["run"]
    env = archive_context({"image": "debian:11"}, job)["env"]
    assert env["IMAGE"] == "debian:11" and env["ARCHIVE"] == f"{PLUGIN}-v{VERSION}-linux-amd64.tar.gz"


def test_linux_archives_are_scanned_for_glibc_2_31(release: dict[str, Any]) -> None:
    _, job = plugin_job(release)
    step = the_step(job, r"scripts/glibc_floor\.py")
    assert re.search(r'python scripts/glibc_floor\.py --max 2\.31 "dist/\$ARCHIVE"', step["run"])
    for entry in job["strategy"]["matrix"]["include"]:
        assert evaluate(step["if"], {"matrix": entry}) is (entry["os"] == "linux"), entry
    order = [s.get("run", "") for s in steps(job)]
    assert order.index(step["run"]) > next(i for i, run in enumerate(order) if "scripts/release" in run), "scanned before it is built"


# --- (c) the tag check and the publications ------------------------------------------------------------------


def version_check(release: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    jobs = release["jobs"]
    found = [
        (name, step)
        for name, job in jobs.items()
        for step in steps(job)
        if re.search(r"(?<![$\w{])VERSION\b", step.get("run", ""))
        and re.search(r"ref_name|GITHUB_REF", json.dumps(step) + json.dumps(job.get("env", {})))
    ]
    assert len(found) == 1, f"expected one step checking the tag against VERSION, found {[n for n, _ in found]}"
    return found[0]


def run_step(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert BASH
    return subprocess.run(
        [BASH, "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_release_runs_on_version_tags(release: dict[str, Any]) -> None:
    tags = release["on"]["push"]["tags"]
    assert any(fnmatch.fnmatch("v0.1.0", t) for t in tags) and not any(fnmatch.fnmatch("sdk/go/v0.1.0", t) for t in tags)
    assert set(release["on"]) == {"push"}


def repository_with_main(folder: Path) -> tuple[str, str]:
    """A git repository in folder, as the version job's checkout leaves it (origin/main fetched), with
    VERSION committed: (a commit on main, a commit on another branch only)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=folder, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    (folder / "VERSION").write_text(f"{VERSION}\n")
    git("add", "VERSION")
    git("commit", "-q", "-m", "on main")
    on_main = git("rev-parse", "HEAD")
    git("update-ref", "refs/remotes/origin/main", on_main)
    git("checkout", "-q", "-b", "elsewhere")
    git("commit", "-q", "--allow-empty", "-m", "not on main")
    return on_main, git("rev-parse", "HEAD")


def version_step_env(step: dict[str, Any], tag: str, sha: str, output: Path) -> dict[str, str]:
    env_of_step = {k: render(str(v), {"github": {"ref_name": "TAG"}}) for k, v in (step.get("env") or {}).items()}
    tag_var = next((k for k, v in env_of_step.items() if v == "TAG"), "GITHUB_REF_NAME")
    return {tag_var: tag, "GITHUB_REF_NAME": tag, "GITHUB_SHA": sha, "GITHUB_OUTPUT": str(output)}


def test_release_checks_the_tag_against_version_before_building(release: dict[str, Any], tmp_path: Path) -> None:
    jobs = release["jobs"]
    checker, step = version_check(release)
    for builder in jobs_running(jobs, r"scripts/release"):
        assert checker in upstream(jobs, builder), f"{builder} does not wait for the tag check"
    on_main, _ = repository_with_main(tmp_path)
    output = tmp_path / "github_output"
    good = run_step(step, tmp_path, version_step_env(step, f"v{VERSION}", on_main, output))
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"version={VERSION}" in output.read_text().splitlines()
    for wrong in ("v0.1.1", "v0.1.0-rc.1", "0.1.0"):
        bad = run_step(step, tmp_path, version_step_env(step, wrong, on_main, output))
        assert bad.returncode != 0, f"tag {wrong} passed against VERSION {VERSION}"
        assert wrong in bad.stdout + bad.stderr


def test_release_refuses_a_tag_that_is_not_on_main(release: dict[str, Any], tmp_path: Path) -> None:
    _, step = version_check(release)
    assert load("release.yml")["jobs"]["version"]["steps"][0]["with"]["fetch-depth"] == 0, "origin/main must be fetched"
    _, elsewhere = repository_with_main(tmp_path)
    done = run_step(step, tmp_path, version_step_env(step, f"v{VERSION}", elsewhere, tmp_path / "github_output"))
    assert done.returncode != 0
    assert f"tag v{VERSION} ({elsewhere}) is not on main" in done.stdout + done.stderr


def test_each_archive_passes_the_gate_before_it_is_uploaded_and_every_file_is_attested(release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    plugin, job = plugin_job(release)
    order = [s.get("run", "") or s.get("uses", "") for s in steps(job)]
    gate = the_step(job, r"scripts/check_archive\.py")
    assert re.search(r'python scripts/check_archive\.py "dist/\$ARCHIVE"', gate["run"]) and "if" not in gate, "every os/arch"
    assert order.index(gate["run"]) < next(i for i, u in enumerate(order) if u.startswith("actions/upload-artifact"))
    attesting = [name for name, j in jobs.items() if uses(j, "actions/attest-build-provenance")]
    assert len(attesting) == 1, attesting
    attest = jobs[attesting[0]]
    (subject,) = uses(attest, "actions/attest-build-provenance")
    (download,) = uses(attest, "actions/download-artifact")
    assert subject["with"]["subject-path"] == f"{download['with']['path']}/*"
    packages = the_job_running(jobs, r"scripts/release\s+.*--only[ =]packages")
    assert download["with"]["name"] in {u["with"]["name"] for u in uses(jobs[packages], "actions/upload-artifact") if u["with"]["path"] == "dist/*"}
    assert attest["permissions"] == {"contents": "read", "id-token": "write", "attestations": "write"}
    assert attesting[0] in upstream(jobs, the_job_running(jobs, r"gh release (create|upload)")), "released before it is attested"


def test_the_release_replaces_no_file_of_an_existing_release(release: dict[str, Any], tmp_path: Path) -> None:
    jobs = release["jobs"]
    assert "--clobber" not in (WORKFLOWS / "release.yml").read_text()
    step = the_step(jobs[the_job_running(jobs, r"gh release create")], r"gh release create")
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "a.tar.gz").write_text("a")
    (tmp_path / "dist" / "checksums.txt").write_text(
        subprocess.run(["sha256sum", "a.tar.gz"], cwd=tmp_path / "dist", capture_output=True, text=True).stdout
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    for exists in (True, False):
        # A stand-in gh: `release view` answers whether the release exists; every call is recorded.
        (bin_dir / "gh").write_text(f'#!/bin/sh\necho "$*" >>{calls}\n[ "$1 $2" = "release view" ] && exit {0 if exists else 1}\nexit 0\n')
        (bin_dir / "gh").chmod(0o755)
        calls.write_text("")
        done = subprocess.run([BASH or "bash", "-eo", "pipefail", "-c", step["run"]], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                              env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "TAG": f"v{VERSION}", "VERSION": VERSION, "GITHUB_REPOSITORY": "o/r"})  # fmt: skip
        made = [line for line in calls.read_text().splitlines() if not line.startswith("release view")]
        if exists:
            assert done.returncode != 0 and made == [], f"an existing release was changed: {made}"
            assert f"the release v{VERSION} exists already" in done.stdout + done.stderr
        else:
            assert done.returncode == 0, done.stderr
            assert made and made[0].startswith(f"release create v{VERSION} dist/"), made


def test_macos_and_windows_archives_bundle_the_linux_archive_s_cpython_line(release: dict[str, Any]) -> None:
    _, job = plugin_job(release)
    (python,) = uses(job, "actions/setup-python")
    assert str(python["with"]["python-version"]) == debian_root.PYTHON_LINE


def test_release_publishes_to_npm_with_provenance(release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    name = the_job_running(jobs, r"npm publish")
    job = jobs[name]
    publish = the_step(job, r"npm publish")
    assert "--provenance" in publish["run"]
    assert re.search(r"npm publish \"?npm/pulumi-clevercloud-tcp-\$\{?VERSION\}?\.tgz", publish["run"])
    assert job["permissions"].get("id-token") == "write"
    (node,) = uses(job, "actions/setup-node")
    assert node["with"]["registry-url"] == "https://registry.npmjs.org"


def test_release_publishes_both_python_packages_to_pypi(release: dict[str, Any], tmp_path: Path) -> None:
    jobs = release["jobs"]
    pypi = [n for n, j in jobs.items() if uses(j, "pypa/gh-action-pypi-publish")]
    assert len(pypi) == 1, pypi
    job = jobs[pypi[0]]
    env = job.get("environment")
    assert (env.get("name") if isinstance(env, dict) else env) == "pypi"
    assert job["permissions"] == {"id-token": "write"}
    (publish,) = uses(job, "pypa/gh-action-pypi-publish")
    assert "password" not in publish.get("with", {}), "trusted publishing needs no token"
    (download,) = uses(job, "actions/download-artifact")
    assert publish["with"]["packages-dir"].rstrip("/") == download["with"]["path"].rstrip("/")

    # The step that fills that artifact, run against a stand-in dist/: both packages, wheel and sdist each.
    packages = the_job_running(jobs, r"scripts/release\s+.*--only[ =]packages")
    uploads = {u["with"]["name"]: u["with"]["path"] for u in uses(jobs[packages], "actions/upload-artifact")}
    staged_dir = uploads[download["with"]["name"]].split("/")[0]
    stage = the_step(jobs[packages], rf"\b{staged_dir}/")
    dist = tmp_path / "dist"
    dist.mkdir()
    files = [
        f"pulumi_clevercloud_tcp-{VERSION}-py3-none-any.whl",
        f"pulumi_clevercloud_tcp-{VERSION}.tar.gz",
        f"clevercloud_tcp-{VERSION}-py3-none-any.whl",
        f"clevercloud_tcp-{VERSION}.tar.gz",
        f"pulumi-clevercloud-tcp-{VERSION}.tgz",
        "schema.json",
        *(f"{PLUGIN}-v{VERSION}-{os_}-{arch}.tar.gz" for os_, arch in RUNNERS),
    ]
    for f in files:
        (dist / f).write_text(f)
    sums = subprocess.run(["sha256sum", *files], cwd=dist, capture_output=True, text=True, check=True).stdout
    (dist / "checksums.txt").write_text(sums)
    done = run_step(stage, tmp_path, {"VERSION": VERSION})
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in (tmp_path / staged_dir).iterdir()) == sorted(files[:4])

    # and it refuses to go on when one of them is missing
    (tmp_path / staged_dir).rename(tmp_path / "first")
    (dist / f"clevercloud_tcp-{VERSION}.tar.gz").unlink()
    (dist / "checksums.txt").write_text("".join(line for line in sums.splitlines(True) if "clevercloud_tcp-" not in line or ".whl" in line))
    assert run_step(stage, tmp_path, {"VERSION": VERSION}).returncode != 0


def test_release_pushes_the_go_sdk_tag_for_the_same_commit(release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    name = the_job_running(jobs, r"git push|gh api")
    job = jobs[name]
    context = {"needs": {"version": {"outputs": {"version": VERSION}}}}
    env = job_env(job, context)
    script = runs(job)
    for key, value in env.items():
        script = re.sub(rf"\$\{{?{key}\}}?\b", value, script)
    assert re.search(rf"git tag \"?sdk/go/v{re.escape(VERSION)}\"? \"?\$\{{?GITHUB_SHA\}}?", script), script
    assert re.search(rf"git push origin \"?(refs/tags/)?sdk/go/v{re.escape(VERSION)}\"?", script), script
    assert job["permissions"] == {"contents": "write"}


def test_release_jobs_hold_least_privileges(release: dict[str, Any]) -> None:
    jobs = release["jobs"]
    assert release.get("permissions") == {}, "the workflow's default must grant nothing"
    for name, job in jobs.items():
        assert "permissions" in job, f"job {name} declares no permissions"
        granted = {k: v for k, v in job["permissions"].items() if v != "none"}
        if re.search(r"scripts/release|npm install|pip install", runs(job)):
            assert set(granted.values()) <= {"read"}, f"{name} builds and may write: {granted}"
        if granted.get("id-token") == "write":
            assert re.search(r"npm publish", runs(job)) or uses(job, "pypa/gh-action-pypi-publish") or uses(job, "actions/attest-build-provenance"), (
                name
            )
        if granted.get("attestations") == "write":
            assert uses(job, "actions/attest-build-provenance"), name
        if granted.get("contents") == "write":
            assert re.search(r"gh release|git push", runs(job)), name
