"""The README, CONTRIBUTING.md and docs/: links that lead somewhere, and facts that match the code.

The README is the first page a newcomer reads, so it must stay short and name the published packages
and the two commands of a clone; docs/configuration.md must list every config key of schema.json and
every environment variable config.py reads; every `python -m clevercloud_tcp.X` the docs tell users to
run must exist. Each check is also run against a broken sample, so that it is known to be able to fail.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest

from clevercloud_tcp.config import ENV_VARS, SETTING_NAMES
from clevercloud_tcp.emulator import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.app import build_app
from doc_samples import DOC_FILES, RUNNERS, Sample, blocks, doc_samples, schema_samples
from support import FIXTURE_APPS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
SCHEMA = json.loads((ROOT / "schema.json").read_text())
PACKAGE = SCHEMA["name"]
GO_MODULE = SCHEMA["language"]["go"]["importBasePath"].rsplit("/", 1)[0]
NPM_PACKAGE = SCHEMA["language"]["nodejs"]["packageName"]
PYPI_SDK = SCHEMA["language"]["python"]["packageName"].replace("_", "-")
README_MAX_LINES = 200

FENCE = re.compile(r"^\s*(```|~~~)")
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MODULE = re.compile(r"python3? -m (clevercloud_tcp(?:\.[A-Za-z_]\w*)*)")


def prose(text: str) -> str:
    """`text` without its fenced code blocks (a link inside code is an example, not a link)."""
    kept, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            kept.append(line)
    return "\n".join(kept)


def links(text: str) -> list[str]:
    return LINK.findall(prose(text))


def is_relative(target: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith(("#", "//"))


def resolves(doc: Path, target: str) -> bool:
    """Whether a relative link of `doc` leads to an existing file or folder (its #anchor aside).

    `name/` that is no folder is also taken as `name.md`: the Pulumi Registry's pages link each other
    that way (docs/_index.md to `./installation-configuration/`).
    """
    path = target.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return True
    found = (doc.parent / path).resolve()
    if found.exists():
        return True
    return path.endswith("/") and found.with_suffix(".md").is_file()


def broken_links(doc: Path) -> list[str]:
    return [t for t in links(doc.read_text()) if is_relative(t) and not resolves(doc, t)]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the pipe tables in `text` (outside code fences), as lists of cells."""
    rows = []
    for line in prose(text).splitlines():
        line = line.strip()
        if not line.startswith("|") or re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line):
            continue
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip("|"))])
    return rows


def config_rows(text: str) -> dict[str, list[str]]:
    """Rows whose first cell is one code span `clevercloud-tcp:<key>`, by key."""
    found = {}
    for cells in table_rows(text):
        match = re.fullmatch(rf"`{re.escape(PACKAGE)}:(\w+)`", cells[0])
        if match:
            found[match.group(1)] = cells
    return found


def modules(text: str) -> set[str]:
    return set(MODULE.findall(text))


def exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package that does not exist
        return False


# --- (a) links -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_files(doc: Path) -> None:
    assert not broken_links(doc), f"{doc.relative_to(ROOT)}: links to nothing: {broken_links(doc)}"


def test_the_docs_link_to_each_other() -> None:
    # The README is the way in: every page of docs/ (but the Registry's own) is reachable from it.
    targets = {t.split("#", 1)[0] for t in links(README.read_text())}
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in targets, f"README.md does not link docs/{page.name}"
    assert "CONTRIBUTING.md" in targets


def test_the_link_check_catches_a_broken_link(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("x")
    (tmp_path / "registry-page.md").write_text("x")
    doc = tmp_path / "doc.md"
    doc.write_text(
        "[ok](there.md) [ok](there.md#a-heading) [ok](./registry-page/) [web](https://example.com) [anchor](#top)\n"
        "[gone](missing.md) [gone too](sub/there.md#x)\n"
        "```md\n[in code](not-a-link.md)\n```\n"
    )
    assert broken_links(doc) == ["missing.md", "sub/there.md#x"]


# --- (b) the README --------------------------------------------------------------------------------------


def readme_commands() -> dict[str, str]:
    return {
        "demo": "scripts/demo",
        "test": "scripts/test",
        "npm": f"npm install {NPM_PACKAGE}",
        "pip": f"pip install {PYPI_SDK}",
        "go": f"go get {GO_MODULE}",
        "yaml": f"pulumi plugin install resource {PACKAGE}",
    }


def missing_from_readme(text: str) -> list[str]:
    return [command for command in readme_commands().values() if command not in text]


def test_readme_names_the_two_commands_and_each_install() -> None:
    text = README.read_text()
    assert not missing_from_readme(text), f"README.md does not say: {missing_from_readme(text)}"
    # Working from a clone has its own heading, under which both commands are given.
    section = re.search(r"^## Working on this project\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, "README.md has no `## Working on this project` heading"
    assert "scripts/demo" in section.group(1) and "scripts/test" in section.group(1)


def test_readme_stays_short() -> None:
    lines = len(README.read_text().splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/ (limit {README_MAX_LINES})"


def test_the_readme_check_catches_a_missing_command() -> None:
    text = README.read_text()
    for name, command in readme_commands().items():
        assert missing_from_readme(text.replace(command, "")) == [command], name


# --- (c) configuration -----------------------------------------------------------------------------------


def configuration_problems(text: str) -> list[str]:
    rows = config_rows(text)
    problems = [f"no row for {PACKAGE}:{key}" for key in SCHEMA["config"]["variables"] if key not in rows]
    problems += [f"row for {PACKAGE}:{key}, which schema.json does not have" for key in rows if key not in SCHEMA["config"]["variables"]]
    for setting, variables in ENV_VARS.items():
        row = " | ".join(rows.get(SETTING_NAMES[setting], []))
        for variable in variables:
            if f"`{variable}`" not in row:
                problems.append(f"{variable} not named in the row of {PACKAGE}:{SETTING_NAMES[setting]}")
    return problems


def test_configuration_lists_every_key_and_environment_variable() -> None:
    assert not configuration_problems(CONFIGURATION.read_text())


def test_the_configuration_check_catches_a_missing_row_or_variable() -> None:
    text = CONFIGURATION.read_text()
    assert configuration_problems(text.replace(f"| `{PACKAGE}:retryTimeout` |", "| retryTimeout |")) == [
        f"no row for {PACKAGE}:retryTimeout"
    ]
    assert configuration_problems(text.replace("`API_HOST`", "API_HOST")) == [f"API_HOST not named in the row of {PACKAGE}:endpoint"]
    assert configuration_problems(text + f"\n| `{PACKAGE}:nope` | | | |\n") == [f"row for {PACKAGE}:nope, which schema.json does not have"]


# --- (d) modules to run ----------------------------------------------------------------------------------


def test_every_module_the_docs_run_exists() -> None:
    named = {name: doc for doc in DOC_FILES for name in modules(doc.read_text())}
    assert "clevercloud_tcp.recover" in named and "clevercloud_tcp.emulator" in named, sorted(named)
    missing = {name: str(doc.relative_to(ROOT)) for name, doc in named.items() if not exists(name)}
    assert not missing, f"the docs run modules that do not exist: {missing}"


def test_the_module_check_sees_a_module_that_does_not_exist() -> None:
    found = modules("`python -m clevercloud_tcp.no_such_module --help`, `python -m clevercloud_tcp.nope.deeper`")
    assert found == {"clevercloud_tcp.no_such_module", "clevercloud_tcp.nope.deeper"}
    assert not any(exists(name) for name in found)
    assert exists("clevercloud_tcp.run")


# --- (e) every code block is run, or marked and checked ---------------------------------------------------
# tests/doc_samples.py reads the blocks and their markers; tests/e2e/test_doc_samples.py runs the `sample:` ones.

GO_SDK_MODULE = re.search(r"^module (\S+)", (ROOT / "sdk" / "go" / "go.mod").read_text(), re.M).group(1)  # type: ignore[union-attr]
GO_VERSION = re.search(r"^go (\d+\.\d+)", (ROOT / "sdk" / "go" / "go.mod").read_text(), re.M).group(1)  # type: ignore[union-attr]
VERSION = (ROOT / "VERSION").read_text().strip()
EXTRAS = set(importlib.metadata.metadata("clevercloud-tcp").get_all("Provides-Extra") or [])
PACKAGE_SPECS = {"clevercloud-tcp", PYPI_SDK} | {f"clevercloud-tcp[{extra}]" for extra in EXTRAS}
EMULATOR_ROUTES = {str(getattr(route, "path", "")) for route in build_app(DEFAULT_FIXTURE).routes}
REPO_PATH = re.compile(r"(?<![\w/.-])((?:scripts|tests|examples|docs|sdk|provider|bench)/[\w./-]*\w)")


def marking_problems(samples: list[Sample]) -> list[str]:
    problems = [f"{s.name}: no <!-- sample: RUNNER --> or <!-- not-run: REASON --> above it" for s in samples if not s.kind]
    problems += [f"{s.name}: no runner {s.value!r} (known: {', '.join(RUNNERS)})" for s in samples if s.kind == "sample" and s.value not in RUNNERS]
    problems += [f"{s.name}: not-run without a reason" for s in samples if s.kind == "not-run" and not s.value]
    return problems


def not_run_problems(sample: Sample) -> list[str]:
    """What can be checked in a sample that cannot run here: packages, version, module, paths, routes."""
    code, problems = sample.code, []
    for args in re.findall(r"\bpip install ([^\n#]+)", code):
        problems += [f"pip installs {spec}, not ours" for spec in shlex.split(args) if spec not in PACKAGE_SPECS]
    for args in re.findall(r"\bnpm install ([^\n#]+)", code):
        problems += [f"npm installs {name}, not {NPM_PACKAGE}" for name in args.split() if name != NPM_PACKAGE]
    for module in re.findall(r"\bgo get (\S+)", code):
        problems += [f"go get {module}, not {GO_SDK_MODULE}"] if module != GO_SDK_MODULE else []
    server = SCHEMA["pluginDownloadURL"].replace("${VERSION}", VERSION)
    for package, version, url in re.findall(r"pulumi plugin install resource (\S+) (\S+) --server (\S+)", code):
        if (package, version, url) != (PACKAGE, VERSION, server):
            problems.append(f"plugin install of {package} {version} from {url}; expected {PACKAGE} {VERSION} from {server}")
    for key in re.findall(r"pulumi config set (?:--secret )?([\w-]+:\w+)", code):
        package, name = key.split(":")
        if package == PACKAGE and name not in SCHEMA["config"]["variables"]:
            problems.append(f"{key} is not a config key of schema.json")
    problems += [f"runs {name}, which does not exist" for name in modules(code) if not exists(name)]
    problems += [f"{path} does not exist" for path in REPO_PATH.findall(code + " " + sample.value) if not (ROOT / path).exists()]
    for route in re.findall(r"(/_emulator/\w+)", code):
        problems += [f"{route} is no route of the emulator"] if route not in EMULATOR_ROUTES else []
    problems += [f"{app} is not an application of the built-in fixture" for app in re.findall(r"--app (app_\S+)", code) if app not in FIXTURE_APPS]
    return [f"{sample.name}: {problem}" for problem in problems]


def test_every_code_block_is_run_or_marked_not_runnable() -> None:
    samples = doc_samples()
    assert not marking_problems(samples), "\n".join(marking_problems(samples))
    assert {s.value for s in samples if s.kind == "sample"} | {s.value for s in schema_samples()} == set(RUNNERS), (
        "every runner serves a sample"
    )


def test_samples_not_run_name_what_exists() -> None:
    problems = [p for s in doc_samples() if s.kind == "not-run" for p in not_run_problems(s)]
    assert not problems, "\n".join(problems)
    checked = "".join(s.code for s in doc_samples() if s.kind == "not-run")
    for command in (f"pip install {PYPI_SDK}", "pip install 'clevercloud-tcp[testing]'", f"npm install {NPM_PACKAGE}", f"go get {GO_SDK_MODULE}"):
        assert command in checked, f"no sample that cannot run says `{command}`"


def test_the_marking_and_not_run_checks_catch_a_broken_sample(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "```sh\necho unmarked\n```\n\n<!-- sample: no-such-runner -->\n```python\nx = 1\n```\n\n"
        "<!-- not-run: published -->\n```sh\npip install clevercloud-tcp[nope] pulumi-clevercloud-tcp\nnpm install left-pad\n"
        f"go get {GO_SDK_MODULE}/v2\npulumi plugin install resource {PACKAGE} 0.0.9 --server https://example.com\n"
        f"pulumi config set --secret {PACKAGE}:tokn x\npython -m clevercloud_tcp.nope\nscripts/nope\n"
        "curl $url/_emulator/nope\nclever tcp-redirs --app app_00000000-0000-4000-8000-000000000000\n```\n"
    )
    found = blocks(doc.read_text(), "doc.md")
    assert [p.split(": ", 1)[1] for p in marking_problems(found)] == [
        "no <!-- sample: RUNNER --> or <!-- not-run: REASON --> above it",
        f"no runner 'no-such-runner' (known: {', '.join(RUNNERS)})",
    ]
    said = "\n".join(not_run_problems(found[2]))
    for wrong in ("clevercloud-tcp[nope]", "left-pad", f"{GO_SDK_MODULE}/v2", "0.0.9", f"{PACKAGE}:tokn", "clevercloud_tcp.nope",
                  "scripts/nope", "/_emulator/nope", "app_00000000"):  # fmt: skip
        assert wrong in said, wrong
    assert f"pip installs {PYPI_SDK}" not in said  # the right name passes


def test_a_block_marked_in_a_list_item_is_read_with_its_marker() -> None:
    found = blocks("* item:\n\n  <!-- not-run: why -->\n  ```bash\n  npm install x\n  ```\n", "doc.md")
    assert [(s.kind, s.value, s.code) for s in found] == [("not-run", "why", "npm install x\n")]


def test_the_schema_examples_are_found() -> None:
    by_source: dict[str, set[str]] = {}
    for sample in schema_samples():
        by_source.setdefault(sample.source, set()).add(sample.lang)
    sources = {f"schema.json#{token}" for section in ("resources", "functions") for token in SCHEMA[section]}
    assert set(by_source) == sources, "every resource and function has an example"
    for source, langs in by_source.items():
        assert langs == {"typescript", "python", "go", "yaml"}, f"{source}: examples in {sorted(langs)}"


def test_languages_md_says_what_each_example_reads_and_exports() -> None:
    page = (ROOT / "docs" / "languages.md").read_text()
    plugin = {"examples/typescript/index.ts": 'config.get("namespace")', "examples/python/redirections.py": 'config.get("namespace")',
              "examples/go/redirections/redirections.go": 'cfg.Get("namespace")', "examples/yaml/Pulumi.yaml": "namespace: ${namespace}"}  # fmt: skip
    for path, reads_namespace in plugin.items():
        source = (ROOT / path).read_text()
        assert reads_namespace in source and "mqttUri" in source and "redis_uri" not in source, path
    dynamic = (ROOT / "examples" / "python-dynamic" / "redirections.py").read_text()
    assert 'config.get("host")' in dynamic and '"redis_uri"' in dynamic and '"namespace"' not in dynamic
    assert "`namespace` (`default` by default), and export an `mqtt://` URI" in " ".join(page.split())
    assert "config `host` (optional)" in page and "`redis_uri`" in page


def test_every_plugin_install_in_the_docs_names_the_version_of_VERSION() -> None:
    # Also in prose and tables (docs/languages.md), where no code block marker reaches.
    server = SCHEMA["pluginDownloadURL"].replace("${VERSION}", VERSION)
    found = [(doc.name, m) for doc in DOC_FILES for m in re.findall(r"pulumi plugin install resource (\S+ \S+ --server \S+?)`?\s", doc.read_text())]
    assert len(found) >= 3, found
    wrong = [(name, m) for name, m in found if m != f"{PACKAGE} {VERSION} --server {server}"]
    assert not wrong, f"expected {PACKAGE} {VERSION} --server {server}: {wrong}"


def test_emulator_md_describes_every_owner_application_and_credential_of_the_built_in_fixture() -> None:
    # `run --emulator` lists them all: each must be findable in the page that says what they are.
    text = (ROOT / "docs" / "emulator.md").read_text()
    section = re.search(r"^## The built-in fixture\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "docs/emulator.md has no `## The built-in fixture` section"
    said = section.group(1)
    fixture = DEFAULT_FIXTURE
    owners = [*fixture.users, *fixture.organisations]
    expected = [owner.id for owner in owners] + [owner.name for owner in owners]
    expected += [value for owner in owners for app in owner.applications for value in (app.id, app.name, *app.vhosts)]
    expected += [value for user in fixture.users for pair in user.oauth for value in (pair.token, pair.secret)]
    expected += [token for user in fixture.users for token in user.api_tokens]
    expected += [ns.name for ns in fixture.namespaces]
    assert not [value for value in expected if value not in said], "docs/emulator.md's fixture section leaves these out"
