"""The native Pulumi provider plugin `pulumi-resource-clevercloud-tcp`, for every Pulumi language."""

from ...hosting import answer_temp_folder_question

answer_temp_folder_question()  # before the imports below import pulumi
from .face import TYPE, TcpRedirectionPlugin, schema_text  # noqa: E402
from .server import main, package_version  # noqa: E402

__all__ = ["TYPE", "TcpRedirectionPlugin", "main", "package_version", "schema_text"]
