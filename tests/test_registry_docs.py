"""docs/ in the Pulumi Registry's format, and in agreement with schema.json.

The Registry shows docs/_index.md as the package's front page and docs/installation-configuration.md as
its Installation & Configuration page. Both must carry its front matter; the configuration table must list
every config key of the schema with its environment variable and secrecy, the resource tables every
property, and the front page an example in each language.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from clevercloud_tcp.core.resource import UNKNOWN
from clevercloud_tcp.core.resource import plan as resource_plan
from clevercloud_tcp.emulator.fixture import ORG_ID
from support import FIXTURE_APPS, MQTT_APP

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCHEMA = json.loads((ROOT / "schema.json").read_text())
PACKAGE = SCHEMA["name"]
RESOURCE_TOKEN = f"{PACKAGE}:index:TcpRedirection"
RESOURCE = SCHEMA["resources"][RESOURCE_TOKEN]
CONFIG = SCHEMA["config"]["variables"]
NPM_PACKAGE = SCHEMA["language"]["nodejs"]["packageName"]
GO_IMPORT = SCHEMA["language"]["go"]["importBasePath"]
GO_MODULE = GO_IMPORT.rsplit("/", 1)[0]  # the module is sdk/go; the package sits in it
PYTHON_IMPORT = SCHEMA["language"]["python"]["packageName"]
PYPI_SDK = PYTHON_IMPORT.replace("_", "-")  # PyPI's normal form of the SDK's name
VERSION = (ROOT / "VERSION").read_text().strip()
FENCE = re.compile(r"^(```+|~~~+)")


def split_front_matter(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text()
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    assert match, f"{path.name} does not start with a --- front matter block"
    front = yaml.safe_load(match.group(1))
    assert isinstance(front, dict), f"{path.name}: front matter is not a mapping"
    return front, text[match.end():]


def sections(body: str, level: int) -> dict[str, str]:
    """Heading text -> the lines under it, up to the next heading of this level or above (fences skipped)."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    in_fence = False
    for line in body.splitlines():
        if FENCE.match(line.strip()):
            in_fence = not in_fence
        heading = None if in_fence else re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if heading and len(heading.group(1)) <= level:
            current = found.setdefault(heading.group(2), []) if len(heading.group(1)) == level else None
            continue
        if current is not None:
            current.append(line)
    return {title: "\n".join(lines) for title, lines in found.items()}


def the_section(body: str, level: int, pattern: str) -> tuple[str, str]:
    matching = [(t, s) for t, s in sections(body, level).items() if re.search(pattern, t)]
    assert len(matching) == 1, f"expected one {'#' * level} heading matching /{pattern}/, found {[t for t, _ in matching]}"
    return matching[0]


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Markdown pipe tables of `text`: (header cells, rows of cells), outside code fences."""
    result: list[tuple[list[str], list[list[str]]]] = []
    block: list[str] = []
    in_fence = False
    for line in [*text.splitlines(), ""]:
        if FENCE.match(line.strip()):
            in_fence = not in_fence
        if not in_fence and line.strip().startswith("|"):
            block.append(line.strip())
            continue
        if len(block) >= 2 and re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", block[1]):
            cells = [[c.strip() for c in row.strip("|").split("|")] for row in block]
            result.append((cells[0], cells[2:]))
        block = []
    return result


def code(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of the fenced blocks of `text`, also those indented under a list item."""
    found = re.finditer(r"^([ \t]*)(```+)([^\n`]*)\n(.*?)^[ \t]*\2[ \t]*$", text, re.S | re.M)
    return [(m.group(3).strip(), re.sub(rf"^{m.group(1)}", "", m.group(4), flags=re.M)) for m in found]


def environment_of(description: str) -> str | None:
    match = re.search(r"the environment variable ([A-Z][A-Z0-9_]*)", description)
    return match.group(1) if match else None


@pytest.fixture(scope="module")
def index() -> tuple[dict[str, Any], str]:
    return split_front_matter(DOCS / "_index.md")


@pytest.fixture(scope="module")
def install() -> tuple[dict[str, Any], str]:
    return split_front_matter(DOCS / "installation-configuration.md")


# --- front matter ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title"),
    [("_index.md", SCHEMA["displayName"]), ("installation-configuration.md", f"{SCHEMA['displayName']} Installation & Configuration")],
)
def test_front_matter(name: str, title: str) -> None:
    front, _ = split_front_matter(DOCS / name)
    assert front.get("title") == title
    assert isinstance(front.get("meta_desc"), str) and 20 <= len(front["meta_desc"]) <= 200, front.get("meta_desc")
    assert front.get("layout") == "package"


# --- installation-configuration.md ----------------------------------------------------------------------------------


def config_table(body: str) -> dict[str, dict[str, str]]:
    """Config key (without the package prefix) -> its row, by column header, from the Configuration section."""
    _, section = the_section(body, 2, r"^Configuration$")
    rows: dict[str, dict[str, str]] = {}
    for header, table_rows in tables(section):
        if not header or not re.search(r"key", header[0], re.I):
            continue
        for cells in table_rows:
            names = [c for c in code(cells[0]) if c.startswith(f"{PACKAGE}:")]
            assert len(names) == 1, f"config row without one `{PACKAGE}:<key>`: {cells}"
            key = names[0].split(":", 1)[1]
            assert key not in rows, f"{names[0]} is listed twice"
            rows[key] = dict(zip(header, cells, strict=False))
    for title in sections(section, 3):  # keys given their own heading count too
        for name in code(title):
            if name.startswith(f"{PACKAGE}:"):
                rows.setdefault(name.split(":", 1)[1], {})
    return rows


def test_configuration_lists_every_config_key(install: tuple[dict[str, Any], str]) -> None:
    rows = config_table(install[1])
    assert set(rows) == set(CONFIG), f"missing: {sorted(set(CONFIG) - set(rows))}, unknown: {sorted(set(rows) - set(CONFIG))}"


def test_configuration_gives_environment_variables_and_secrecy(install: tuple[dict[str, Any], str]) -> None:
    rows = config_table(install[1])
    for key, spec in CONFIG.items():
        row = rows[key]
        env_column = next(h for h in row if re.search(r"environment", h, re.I))
        secret_column = next(h for h in row if re.search(r"secret", h, re.I))
        expected_env = environment_of(spec["description"])
        assert code(row[env_column]) == ([expected_env] if expected_env else []), f"{key}: {row[env_column]!r}"
        assert row[secret_column].lower() == ("yes" if spec.get("secret") else "no"), f"{key}: secret is {row[secret_column]!r}"
    _, section = the_section(install[1], 2, r"^Configuration$")
    for key, spec in CONFIG.items():
        if spec.get("secret") and key in ("token", "secret"):
            assert f"pulumi config set --secret {PACKAGE}:{key}" in section


def property_rows(body: str, pattern: str) -> dict[str, str]:
    _, resource = the_section(body, 2, r"TcpRedirection")
    _, sub = the_section(resource, 3, pattern)
    found: dict[str, str] = {}
    for _header, rows in tables(sub):
        for cells in rows:
            (name,) = code(cells[0])
            found[name] = " | ".join(cells[1:])
    return found


def test_resource_inputs_are_all_documented(install: tuple[dict[str, Any], str]) -> None:
    rows = property_rows(install[1], r"^Inputs$")
    assert set(rows) == set(RESOURCE["inputProperties"])
    for name, spec in RESOURCE["inputProperties"].items():
        assert spec["type"] in rows[name], f"{name}: type {spec['type']} not in {rows[name]!r}"
        assert ("required" in rows[name]) == (name in RESOURCE["requiredInputs"]), name
        if "default" in spec:
            assert f"`{json.dumps(spec['default']).strip(chr(34))}`" in rows[name], f"{name}: default not given"


def test_resource_outputs_are_all_documented(install: tuple[dict[str, Any], str]) -> None:
    rows = property_rows(install[1], r"^Outputs$")
    assert set(rows) == set(RESOURCE["properties"])
    for name, spec in RESOURCE["properties"].items():
        assert spec["type"] in rows[name], f"{name}: type {spec['type']} not in {rows[name]!r}"
        assert ("optional" in rows[name]) == (name not in RESOURCE["required"]), name


def test_functions_are_described(install: tuple[dict[str, Any], str]) -> None:
    _, section = the_section(install[1], 2, r"^Functions$")
    for token, spec in SCHEMA["functions"].items():
        name = token.rsplit(":", 1)[1]
        (line,) = [line for line in section.splitlines() if f"`{name}(" in line]
        signature = re.search(rf"`{name}\(([^)]*)\)`", line)
        assert signature, f"{name}: no `{name}(...)` signature"
        args = [a.strip() for a in signature.group(1).split(",") if a.strip()]
        required = set(spec["inputs"].get("required", []))
        assert sorted(a.rstrip("?") for a in args) == sorted(spec["inputs"]["properties"]), f"{name}: {args}"
        assert {a for a in args if not a.endswith("?")} == required, f"{name}: optional arguments must end with ?"
        result = line[signature.end():]
        for prop in spec["outputs"]["properties"]:
            assert f"`{prop}`" in result, f"{name}: output {prop} not mentioned after the signature"


def test_installation_names_the_published_packages(install: tuple[dict[str, Any], str]) -> None:
    _, section = the_section(install[1], 2, r"^Installation$")
    commands = "\n".join(body for lang, body in code_blocks(section) if lang in ("bash", "sh", "shell"))
    assert f"npm install {NPM_PACKAGE}" in commands
    assert f"pip install {PYPI_SDK}" in commands
    assert f"go get {GO_MODULE}" in commands
    server = SCHEMA["pluginDownloadURL"].replace("${VERSION}", VERSION)
    assert f"pulumi plugin install resource {PACKAGE} {VERSION} --server {server}" in commands
    assert f"`{PYTHON_IMPORT}`" in section and f"`{GO_IMPORT}`" in section
    assert re.search(r"engine downloads the plugin", section), "the page must say the engine fetches the plugin"


# --- _index.md ----------------------------------------------------------------------------------------------------


def examples(index: tuple[dict[str, Any], str]) -> dict[str, str]:
    _, section = the_section(index[1], 2, r"^Example Usage$")
    blocks = code_blocks(section)
    langs = [lang for lang, _ in blocks]
    assert sorted(langs) == ["go", "python", "typescript", "yaml"], f"code blocks: {langs}"
    return dict(blocks)


def test_index_has_an_example_in_each_language(index: tuple[dict[str, Any], str]) -> None:
    blocks = examples(index)
    assert f'from "{NPM_PACKAGE}"' in blocks["typescript"]
    assert re.search(r"new \w+\.TcpRedirection\(", blocks["typescript"])
    assert re.search(r"export const port = \w+\.port", blocks["typescript"])
    assert re.search(r"export const url = \w+\.url", blocks["typescript"])
    assert re.search(rf"^import {PYTHON_IMPORT}\b", blocks["python"], re.M)
    assert re.search(r'pulumi\.export\("port", \w+\.port\)', blocks["python"])
    assert re.search(r'pulumi\.export\("url", \w+\.url\)', blocks["python"])
    assert f'"{GO_IMPORT}"' in blocks["go"]
    assert re.search(r'ctx\.Export\("port", \w+\.Port\)', blocks["go"])
    assert re.search(r'ctx\.Export\("url", \w+\.Url\)', blocks["go"])


def test_index_yaml_example_fits_the_schema(index: tuple[dict[str, Any], str]) -> None:
    program = yaml.safe_load(examples(index)["yaml"])
    (resource,) = program["resources"].values()
    assert resource["type"] in (RESOURCE_TOKEN, RESOURCE_TOKEN.replace(":index:", ":"))
    props = resource.get("properties", {})
    assert set(props) <= set(RESOURCE["inputProperties"])
    assert set(RESOURCE["requiredInputs"]) <= set(props)
    (name,) = program["resources"]
    assert program["outputs"] == {"port": f"${{{name}.port}}", "url": f"${{{name}.url}}"}


def test_index_python_and_go_examples_are_valid_code(index: tuple[dict[str, Any], str]) -> None:
    blocks = examples(index)
    compile(blocks["python"], "_index.md python example", "exec")
    gofmt = shutil.which("gofmt")
    if gofmt is None:
        pytest.fail("gofmt (from the Go toolchain) is needed to check the Go example; CI must have every tool")
    done = subprocess.run([gofmt, "-l"], input=blocks["go"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", "the Go example is not gofmt-formatted"


def test_index_points_to_installation_and_configuration(index: tuple[dict[str, Any], str]) -> None:
    for title in ("Installation", "Configuration"):
        _, section = the_section(index[1], 2, rf"^{title}$")
        assert "(./installation-configuration/)" in section, f"{title} does not link the installation page"


# --- schema.json's Registry fields -----------------------------------------------------------------------


def test_the_logo_url_reaches_a_logo_in_the_repository() -> None:
    raw = SCHEMA["repository"].replace("https://github.com/", "https://raw.githubusercontent.com/") + "/main/"
    assert SCHEMA["logoUrl"].startswith(raw), f"{SCHEMA['logoUrl']} is not a file of {SCHEMA['repository']}"
    logo = ROOT / SCHEMA["logoUrl"].removeprefix(raw)
    assert logo.is_file(), f"{logo.relative_to(ROOT)} does not exist"
    svg = ElementTree.parse(logo).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg" and svg.get("viewBox"), "not an SVG with a viewBox"


def replacing_inputs() -> set[str]:
    """The inputs whose change the core plans as a replace (a change to an unknown value: no API call)."""
    olds = {"appId": MQTT_APP, "namespace": "default", "ownerId": ORG_ID, "host": "a.example", "adopt": False}
    found = set()
    for name in RESOURCE["inputProperties"]:
        plan = resource_plan(olds, {**olds, name: UNKNOWN}, lambda: pytest.fail("the plan asked for a session"))
        found |= set(plan.replaces)
    return found


def test_will_replace_on_changes_marks_the_inputs_that_replace() -> None:
    marked = {name for name, spec in RESOURCE["inputProperties"].items() if spec.get("willReplaceOnChanges")}
    assert marked == replacing_inputs() == {"appId", "namespace", "ownerId"}


def test_the_resource_description_has_an_import_section() -> None:
    description = RESOURCE["description"]
    # The docs generator takes the text from "## Import" to the end as the page's Import section.
    before, _, section = description.partition("\n\n## Import\n\n")
    assert section, "no `## Import` section"
    assert "pulumi import" not in before, "the import instruction belongs in the Import section"
    (command,) = re.findall(r"^\$ pulumi import (.+)$", section, re.M)
    token, name, resource_id = command.split()
    assert token == RESOURCE_TOKEN and re.fullmatch(r"[\w-]+", name)
    app, namespace = resource_id.split("/")
    assert app in FIXTURE_APPS and namespace in ("default", "cleverapps"), resource_id
    assert "{{% examples %}}" not in section, "the Import section comes after the examples"


def test_the_pages_name_the_languages_the_schema_has() -> None:
    # No C# or Java SDK: their generators are not among the ones provider/cmd/gen-sdks can call.
    assert set(SCHEMA["language"]) == {"nodejs", "go", "python"}
    for page in (DOCS / "_index.md", DOCS / "installation-configuration.md", ROOT / "README.md"):
        text = page.read_text()
        assert "every Pulumi language" not in text and "all Pulumi languages" not in text, page.name
        assert re.search(r"TypeScript/JavaScript, Python (and|,) Go", text), f"{page.name} does not say which SDKs exist"
        assert "no .NET or Java SDK" in text, f"{page.name} does not say that C# and Java have none"


def test_the_pages_give_the_go_module_and_its_go_version() -> None:
    go_mod = (ROOT / "sdk" / "go" / "go.mod").read_text()
    module = re.search(r"^module (\S+)", go_mod, re.M).group(1)  # type: ignore[union-attr]
    version = re.search(r"^go (\d+\.\d+)", go_mod, re.M).group(1)  # type: ignore[union-attr]
    for page in (DOCS / "_index.md", DOCS / "installation-configuration.md", DOCS / "languages.md"):
        text = page.read_text()
        modules = set(re.findall(r"github\.com/pulumi-clevercloud-tcp/pulumi-clevercloud-tcp/sdk[\w/]*", text))
        assert module in modules and modules <= {module, GO_IMPORT}, f"{page.name}: {sorted(modules)}"
        assert f"Go {version} or later" in text, f"{page.name} does not say the module needs Go {version}"
