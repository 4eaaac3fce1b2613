"""The Python dynamic provider's typed resource and functions: Clever Cloud TCP redirections with no plugin to install.

    from clevercloud_tcp.dynamic import TcpRedirection
    redis = TcpRedirection("redis-tcp", app_id=app.id, namespace="cleverapps")
    pulumi.export("redis_url", redis.url)
"""

from .functions import (
    GetNamespacesResult,
    GetTcpRedirectionsResult,
    TcpRedirectionInfo,
    get_namespaces,
    get_tcp_redirections,
    get_tcp_redirections_output,
)
from .tcp_redirection import TcpRedirection, TcpRedirectionArgs

__all__ = [
    "GetNamespacesResult",
    "GetTcpRedirectionsResult",
    "TcpRedirection",
    "TcpRedirectionArgs",
    "TcpRedirectionInfo",
    "get_namespaces",
    "get_tcp_redirections",
    "get_tcp_redirections_output",
]
