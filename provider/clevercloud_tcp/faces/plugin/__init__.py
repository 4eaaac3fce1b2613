"""The native Pulumi provider plugin `pulumi-resource-clevercloud-tcp`, for every Pulumi language."""

from .face import TYPE, TcpRedirectionPlugin, schema_text
from .server import main, package_version

__all__ = ["TYPE", "TcpRedirectionPlugin", "main", "package_version", "schema_text"]
