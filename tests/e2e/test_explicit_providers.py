"""Explicit providers hold their own settings: one program, two organisations, two sets of credentials.

Through the real engine: a YAML project with the plain CLI, and a Python program through the Automation
API. The stack config holds no `clevercloud-tcp:*` key at all, and the environment no credential: each
provider reads only its arguments. Their secrets are secret in the state; a bad setting on one provider
is refused at preview, in one line naming the argument, before any request.
"""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_clevercloud_tcp
import pytest
from pulumi import automation as auto

from clevercloud_tcp.emulator.fixture import OTHER_ORG_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import first_error
from cli_project import CliError, CliProject
from support import APP, OWNER, SECRET, TOKEN, StackFactory, held, no_profile, plain_export, quiet

GLOBEX_APP = "app_3a7c9d7b-6f5e-4b4c-8dbe-af9a8b7c6d5e"  # globex-db, of another organisation and another user
GLOBEX_TOKEN, GLOBEX_SECRET = "other-token", "other-secret"
SECRETS = (TOKEN, SECRET, GLOBEX_TOKEN, GLOBEX_SECRET)

TWO_ORGANISATIONS = """\
name: two-organisations
runtime: yaml
config:
  endpoint: {type: string}
  acmeToken: {type: string, secret: true}
  acmeSecret: {type: string, secret: true}
  globexToken: {type: string, secret: true}
  globexSecret: {type: string, secret: true}
  globexRetryAttempts: {type: integer, default: 3}
resources:
  acme:
    type: pulumi:providers:clevercloud-tcp
    properties: {endpoint: "${endpoint}", token: "${acmeToken}", secret: "${acmeSecret}"}
  globex:
    type: pulumi:providers:clevercloud-tcp
    properties: {endpoint: "${endpoint}", token: "${globexToken}", secret: "${globexSecret}", retryAttempts: "${globexRetryAttempts}"}
  cache:
    type: clevercloud-tcp:index:TcpRedirection
    properties: {appId: %(acme_app)s}
    options: {provider: "${acme}"}
  database:
    type: clevercloud-tcp:index:TcpRedirection
    properties: {appId: %(globex_app)s, namespace: cleverapps}
    options: {provider: "${globex}"}
outputs:
  cachePort: ${cache.port}
  cacheOwner: ${cache.ownerId}
  databasePort: ${database.port}
  databaseOwner: ${database.ownerId}
"""


@pytest.fixture
def yaml_project(pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path) -> CliProject:
    source = tmp_path / "source"
    source.mkdir()
    (source / "Pulumi.yaml").write_text(TWO_ORGANISATIONS % {"acme_app": APP, "globex_app": GLOBEX_APP})
    project = CliProject(source, tmp_path, pulumi_cli)
    project.env |= no_profile(tmp_path)
    project.run("stack", "init", "dev")
    project.run(
        "config", "set-all", "--plaintext", f"endpoint={e2e_emulator.url}",
        "--secret", f"acmeToken={TOKEN}", "--secret", f"acmeSecret={SECRET}",
        "--secret", f"globexToken={GLOBEX_TOKEN}", "--secret", f"globexSecret={GLOBEX_SECRET}",
    )  # fmt: skip
    return project


def test_two_explicit_providers_in_yaml_each_make_their_redirection(yaml_project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    yaml_project.run("up", "--yes")
    out = yaml_project.outputs()
    assert (out["cacheOwner"], out["databaseOwner"]) == (OWNER, OTHER_ORG_ID)
    assert sorted(held(e2e_emulator)) == sorted([(APP, "default", out["cachePort"]), (GLOBEX_APP, "cleverapps", out["databasePort"])])
    state = yaml_project.export_text()
    assert not [s for s in SECRETS if s in state], "a provider's credential is in the state in clear"
    e2e_emulator.clear_log()
    yaml_project.run("preview", "--expect-no-changes")
    assert e2e_emulator.writes() == []
    yaml_project.run("destroy", "--yes")
    assert held(e2e_emulator) == []


def test_a_bad_setting_of_an_explicit_provider_is_refused_at_preview(yaml_project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    yaml_project.run("config", "set", "globexRetryAttempts", "0")
    with pytest.raises(CliError) as refused:
        yaml_project.run("preview")
    said = str(refused.value)
    assert "retryAttempts of provider globex: input should be greater than or equal to 1, got 0 (the default is 5)" in said
    assert "Traceback" not in said
    assert e2e_emulator.log() == [], "a request went out before the setting was refused"


def test_two_explicit_providers_in_python_each_make_their_redirection(
    make_stack: StackFactory, e2e_emulator: EmulatorProcess, pulumi_cli: Path, tmp_path: Path
) -> None:
    def program() -> None:
        acme = pulumi_clevercloud_tcp.Provider("acme", endpoint=e2e_emulator.url, token=TOKEN, secret=SECRET)
        globex = pulumi_clevercloud_tcp.Provider("globex", endpoint=e2e_emulator.url, token=GLOBEX_TOKEN, secret=GLOBEX_SECRET, request_timeout=5)
        cache = pulumi_clevercloud_tcp.TcpRedirection("cache", app_id=APP, opts=pulumi.ResourceOptions(provider=acme))
        database = pulumi_clevercloud_tcp.TcpRedirection("database", app_id=GLOBEX_APP, opts=pulumi.ResourceOptions(provider=globex))
        pulumi.export("ports", {"cache": cache.port, "database": database.port})

    stack = make_stack(program, config={}, secrets={}, env=no_profile(tmp_path))
    ports = stack.up(color="never", on_output=quiet).outputs["ports"].value
    assert sorted(held(e2e_emulator)) == sorted([(APP, "default", ports["cache"]), (GLOBEX_APP, "default", ports["database"])])
    state = plain_export(pulumi_cli, tmp_path / "pulumi")
    assert not [s for s in SECRETS if s in state], "a provider's credential is in the state in clear"
    providers = [r for r in json.loads(state)["deployment"]["resources"] if r["type"] == "pulumi:providers:clevercloud-tcp"]
    assert [sorted(k for k, v in p["inputs"].items() if "ciphertext" in str(v)) for p in providers] == [["secret", "token"]] * 2
    stack.destroy(color="never", on_output=quiet)
    assert held(e2e_emulator) == []


def test_an_explicit_provider_without_credentials_says_where_to_give_them(make_stack: StackFactory, e2e_emulator: EmulatorProcess, tmp_path: Path) -> None:
    def program() -> None:
        eu = pulumi_clevercloud_tcp.Provider("eu", endpoint=e2e_emulator.url)
        pulumi_clevercloud_tcp.TcpRedirection("cache", app_id=APP, opts=pulumi.ResourceOptions(provider=eu))

    stack = make_stack(program, config={}, secrets={}, env=no_profile(tmp_path))
    with pytest.raises(auto.errors.CommandError) as refused:
        stack.preview(color="never", on_output=quiet)
    assert "No Clever Cloud credentials found: give provider eu token and secret (or apiToken)" in first_error(refused.value)
    assert e2e_emulator.log() == []
