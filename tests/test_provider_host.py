"""The provider as the engine drives it: `python -m pulumi.dynamic` over gRPC, against the emulator."""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import psutil
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.rpc import UNKNOWN

from clevercloud_tcp import CleverCloudClient
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.faces.dynamic import TcpRedirectionProvider
from clevercloud_tcp.testing.harness import ProviderHost, StartupError
from support import APP, MQTT_APP, OWNER, SECRET, TOKEN, held


@pytest.fixture
def host(emulator: EmulatorProcess) -> Iterator[ProviderHost]:
    config = {"clevercloud:token": TOKEN, "clevercloud:secret": SECRET, "clevercloud:endpoint": emulator.url}
    with ProviderHost(config) as running:
        yield running


def test_create_read_then_out_of_band_delete_reads_as_gone(host: ProviderHost, emulator: EmulatorProcess, client: CleverCloudClient) -> None:
    id_, outs = host.apply({"appId": APP, "namespace": "cleverapps"})

    assert id_ == f"{APP}/cleverapps"
    assert held(emulator) == [(APP, "cleverapps", outs["port"])]
    assert 5001 <= outs["port"] <= 5999
    assert outs["ownerId"] == OWNER
    assert outs["host"] == "app-0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b.cleverapps.io"
    assert outs["url"] == f"tcp://{outs['host']}:{int(outs['port'])}"

    read_id, read_outs, read_inputs = host.read(id_, outs)
    assert (read_id, read_outs["port"]) == (id_, outs["port"])
    assert read_inputs == {}  # none returned: the engine keeps the stored inputs, a given host included

    client.remove_tcp_redirection(OWNER, APP, "cleverapps", int(outs["port"]))
    gone_id, _, _ = host.read(id_, outs)
    assert gone_id == ""


def test_read_notices_a_redirection_recreated_outside_with_a_new_port(host: ProviderHost, emulator: EmulatorProcess, client: CleverCloudClient) -> None:
    id_, outs = host.apply({"appId": APP, "namespace": "default"})
    client.remove_tcp_redirection(OWNER, APP, "default", int(outs["port"]))
    # Hold the old port elsewhere so the re-created redirection surely gets another one.
    again = client.add_tcp_redirection(OWNER, APP, "default")

    _, read_outs, _ = host.read(id_, outs)

    assert read_outs["port"] == again.port
    assert read_outs["url"].endswith(f":{again.port}")


def test_default_host_is_the_favourite_of_several_custom_domains(host: ProviderHost) -> None:
    _, outs = host.apply({"appId": MQTT_APP, "namespace": "default"})
    assert outs["host"] == "broker.acme.example"


def test_given_host_wins_and_a_host_change_updates_url_without_touching_the_api(host: ProviderHost, emulator: EmulatorProcess) -> None:
    id_, outs = host.apply({"appId": APP, "host": "db.example.com"})
    assert outs["url"] == f"tcp://db.example.com:{int(outs['port'])}"

    news = host.check({"appId": APP, "host": "db2.example.com"}).inputs
    diff = host.diff(id_, outs, news)
    assert diff.changes and diff.replaces == []
    emulator.clear_log()
    updated = host.update(id_, outs, news)

    assert updated["url"] == f"tcp://db2.example.com:{int(outs['port'])}"
    assert updated["port"] == outs["port"]
    assert emulator.log() == []


def test_leaving_host_out_again_finds_the_apps_domain(host: ProviderHost) -> None:
    given = host.check({"appId": APP, "host": "db.example.com"}).inputs
    id_, outs = host.create(given)

    # The engine passes the stored inputs as check's olds: that is how a removed input shows.
    news = host.check({"appId": APP}, olds=given).inputs
    diff = host.diff(id_, outs, news)
    assert diff.changes and diff.replaces == []
    updated = host.update(id_, outs, news)

    assert updated["host"] == "cache.acme.example"  # the app's only custom domain
    assert updated["url"] == f"tcp://cache.acme.example:{int(outs['port'])}"
    assert updated["port"] == outs["port"]
    settled = host.check({"appId": APP}, olds=news).inputs
    assert host.diff(id_, updated, settled).changes is False


def test_namespace_change_replaces_creating_the_new_one_first(host: ProviderHost) -> None:
    id_, outs = host.apply({"appId": APP, "namespace": "default"})
    news = host.check({"appId": APP, "namespace": "cleverapps"}).inputs

    diff = host.diff(id_, outs, news)

    assert diff.changes and diff.replaces == ["namespace"]
    assert diff.delete_before_replace is False  # keys differ: no window without a port


def test_an_owner_change_to_a_wrong_owner_is_refused_before_anything_goes(host: ProviderHost, emulator: EmulatorProcess) -> None:
    # Same key, so the replace would delete first: the new owner is checked in diff, with one read.
    id_, outs = host.apply({"appId": APP})
    news = host.check({"appId": APP, "ownerId": "user_7c9e6679-7425-40de-944b-e07fc1f90ae7"}).inputs
    emulator.clear_log()

    with pytest.raises(grpc.RpcError) as refused:
        host.diff(id_, outs, news)

    assert "owner_id: user_7c9e6679-7425-40de-944b-e07fc1f90ae7 is not an owner of application" in refused.value.details()
    assert "nothing was changed" in refused.value.details()
    assert emulator.writes() == [] and held(emulator) == [(APP, "default", outs["port"])]


def test_unchanged_inputs_diff_to_no_change(host: ProviderHost, emulator: EmulatorProcess) -> None:
    id_, outs = host.apply({"appId": APP, "namespace": "cleverapps"})
    emulator.clear_log()

    diff = host.diff(id_, outs, host.check({"appId": APP, "namespace": "cleverapps"}).inputs)

    assert diff.changes is False and diff.replaces == []
    assert emulator.log() == []  # check and diff never call the API


def test_unknown_values_during_preview_pass_check_and_force_a_replace(host: ProviderHost) -> None:
    id_, outs = host.apply({"appId": APP})
    checked = host.check({"appId": UNKNOWN, "namespace": "default"})
    assert checked.failures == []
    assert host.diff(id_, outs, checked.inputs).replaces == ["appId"]


def test_bad_inputs_give_one_check_failure_per_field_and_no_request(host: ProviderHost, emulator: EmulatorProcess) -> None:
    checked = host.check({"appId": "my-app", "namespace": "Default", "ownerId": "acme", "host": "tcp://x", "adopt": "yes"})

    # The reason names the field as Python spells it, and nothing else does (the engine prints it alone).
    assert {name for name, _ in checked.failures} == {""}
    fields = dict(reason.split(": ", 1) for _, reason in checked.failures)
    assert set(fields) == {"app_id", "namespace", "owner_id", "host", "adopt"}
    assert "app_<uuid>" in fields["app_id"]
    assert "lower-case" in fields["namespace"] and "'default'" in fields["namespace"]
    assert "orga_<uuid>" in fields["owner_id"]
    assert emulator.log() == []


def test_missing_app_id_is_a_check_failure(host: ProviderHost) -> None:
    assert [reason.split(": ", 1)[0] for _, reason in host.check({"namespace": "default"}).failures] == ["app_id"]


def test_delete_removes_it_and_an_already_gone_one_counts_as_deleted(host: ProviderHost, emulator: EmulatorProcess) -> None:
    id_, outs = host.apply({"appId": APP})
    # The process that made a redirection never removes it (the old resource of a rename would take
    # the new one's port); `pulumi destroy` is a command of its own, so a provider process of its own.
    host.delete(id_, outs)
    assert held(emulator) == [(APP, "default", outs["port"])]
    with ProviderHost(host.config) as destroying:
        destroying.delete(id_, outs)
        assert held(emulator) == []
        destroying.delete(id_, outs)  # no error: already gone


def test_existing_redirection_is_an_error_naming_its_port_unless_adopted(host: ProviderHost, emulator: EmulatorProcess, client: CleverCloudClient) -> None:
    existing = client.add_tcp_redirection(OWNER, APP, "default")

    with pytest.raises(grpc.RpcError) as refused:
        host.apply({"appId": APP})
    assert f"port {existing.port}" in refused.value.details()
    assert "set `adopt` to true" in refused.value.details()
    assert "aliases" in refused.value.details()  # a renamed resource is moved, not adopted

    _, outs = host.apply({"appId": APP, "adopt": True})
    assert (outs["port"], outs["adopted"]) == (existing.port, True)
    assert held(emulator) == [(APP, "default", existing.port)]


def test_the_serialized_provider_holds_no_credential() -> None:
    pickled = base64.b64decode(serialize_provider(TcpRedirectionProvider()))
    assert len(pickled) < 200  # by reference to an importable class, not by value
    assert b"clevercloud_tcp.provider" in pickled
    for secret in (TOKEN, SECRET):
        assert secret.encode() not in pickled


def test_provider_without_any_credentials_fails_with_the_three_ways(emulator: EmulatorProcess, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEVER_", "API_HOST"))}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    with ProviderHost({"clevercloud:endpoint": emulator.url}, env=env) as bare:
        [(_, details)] = bare.check({"appId": APP}).failures  # at preview, before anything is sent
    assert "clevercloud:token" in details and "CLEVER_TOKEN" in details and "clever login" in details
    assert emulator.log() == []


class Chatty(ProviderHost):
    """A provider process that prints something else than its port, then keeps running."""

    def _command(self) -> list[str]:
        return [sys.executable, "-c", "import time; print('starting…', flush=True); time.sleep(600)"]


@pytest.mark.parametrize(
    ("host_class", "env", "said"),
    [
        (ProviderHost, {**os.environ, "PYTHONHOME": "/nonexistent"}, "exited before printing its port"),
        (Chatty, None, "printed 'starting…' instead of its port"),
    ],
    ids=["exits", "prints-garbage"],
)
def test_a_provider_that_fails_to_start_is_one_error_and_leaves_no_process(
    host_class: type[ProviderHost], env: dict[str, str] | None, said: str
) -> None:
    before = set(psutil.Process().children())  # the session's emulator, for one
    with pytest.raises(StartupError) as failed:
        with host_class({}, env=env):
            pytest.fail("the provider should not have started")
    assert said in str(failed.value) and "\n" not in str(failed.value)
    assert set(psutil.Process().children()) == before  # neither running nor a zombie left unreaped
