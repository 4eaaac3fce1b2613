"""`TcpRedirection`: a public TCP port on a Clever Cloud namespace, forwarded to an application's port 4040."""

from __future__ import annotations

from typing import Any, overload

import pulumi
import pulumi.dynamic

from clevercloud_tcp.core.inputs import CAMEL_NAMES, PYTHON_NAMES
from clevercloud_tcp.faces.dynamic import TcpRedirectionProvider


class TcpRedirectionArgs:
    """The inputs of a `TcpRedirection`."""

    def __init__(
        self,
        *,
        app_id: pulumi.Input[str],
        namespace: pulumi.Input[str] | None = None,
        owner_id: pulumi.Input[str] | None = None,
        host: pulumi.Input[str] | None = None,
        adopt: pulumi.Input[bool] | None = None,
    ) -> None:
        """
        :param app_id: The application (`app_<uuid>`) that receives the traffic on its port 4040.
        :param namespace: The group of reverse proxies that serves the public port: `default` (custom
               domains, the default), `cleverapps` (`*.cleverapps.io`) or a dedicated one.
        :param owner_id: The organisation (`orga_<uuid>`) or user (`user_<uuid>`) owning the application;
               found from the credentials' summary (or `clevercloud:organization`) when left out.
        :param host: The domain clients dial, used in `url`; the application's domain when left out.
        :param adopt: Take over a redirection that already exists for this application and namespace
               instead of failing (the dynamic-provider way to import one). Default false.
        """
        self.app_id = app_id
        self.namespace = namespace
        self.owner_id = owner_id
        self.host = host
        self.adopt = adopt


class TcpRedirection(pulumi.dynamic.Resource, module="clevercloud-tcp", name="TcpRedirection"):
    """A TCP redirection of a Clever Cloud application: one per application and namespace.

    The platform picks the public port (above 5000); read it from `port`, or `url` for a ready
    `tcp://host:port`. Changing the application, namespace or owner replaces the redirection (a new
    port); changing `host` only changes `url`.
    """

    app_id: pulumi.Output[str]
    """The application that receives the traffic."""
    namespace: pulumi.Output[str]
    """The namespace that serves the public port."""
    owner_id: pulumi.Output[str]
    """The owner of the application, as given or as found."""
    host: pulumi.Output[str | None]
    """The domain clients dial: as given, else the application's domain for this namespace; absent if none."""
    adopt: pulumi.Output[bool]
    """Whether an existing redirection may be taken over on create."""
    port: pulumi.Output[int]
    """The public port the platform assigned."""
    url: pulumi.Output[str | None]
    """`tcp://host:port`; empty when `host` is absent (absent in a state an earlier version wrote, until a refresh)."""
    adopted: pulumi.Output[bool]
    """Whether create took over a redirection that already existed (`adopt`)."""

    @overload
    def __init__(
        self, resource_name: str, args: TcpRedirectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        app_id: pulumi.Input[str],
        namespace: pulumi.Input[str] | None = None,
        owner_id: pulumi.Input[str] | None = None,
        host: pulumi.Input[str] | None = None,
        adopt: pulumi.Input[bool] | None = None,
    ) -> None: ...

    def __init__(self, resource_name: str, *args: Any, **kwargs: Any) -> None:
        args_obj, opts = _split_args(args, kwargs)
        props: dict[str, Any] = {
            "app_id": args_obj.app_id,
            "namespace": args_obj.namespace,
            "owner_id": args_obj.owner_id,
            "host": args_obj.host,
            "adopt": args_obj.adopt,
            # Outputs must be named here (as None) for the engine to fill them in.
            "port": None,
            "url": None,
            "adopted": None,
        }
        super().__init__(TcpRedirectionProvider(), resource_name, props, opts)
        # Numbers cross the engine as doubles: give users the int a port is.
        self.port = self.port.apply(lambda port: None if port is None else int(port))

    def translate_input_property(self, prop: str) -> str:
        return CAMEL_NAMES.get(prop, prop)

    def translate_output_property(self, prop: str) -> str:
        return PYTHON_NAMES.get(prop, prop)


def _split_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[TcpRedirectionArgs, pulumi.ResourceOptions | None]:
    """Both call forms: `(name, args, opts)` and `(name, opts, app_id=…, …)`."""
    positional = list(args)
    args_obj = kwargs.pop("args", None)
    opts = kwargs.pop("opts", None)
    if positional and isinstance(positional[0], TcpRedirectionArgs):
        args_obj = positional.pop(0)
    if positional:
        opts = positional.pop(0)
    if positional:
        raise TypeError("TcpRedirection takes (resource_name, args=None, opts=None, **inputs)")
    if args_obj is None:
        if "app_id" not in kwargs:
            raise TypeError("TcpRedirection needs app_id: the application (app_<uuid>) to expose")
        args_obj = TcpRedirectionArgs(**kwargs)
    elif kwargs:
        raise TypeError(f"give inputs either as TcpRedirectionArgs or as keywords, not both: {sorted(kwargs)}")
    if opts is not None and not isinstance(opts, pulumi.ResourceOptions):
        raise TypeError("opts must be a pulumi.ResourceOptions")
    return args_obj, opts
