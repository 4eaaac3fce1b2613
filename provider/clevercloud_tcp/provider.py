"""`clevercloud_tcp.provider.TcpRedirectionProvider`: where stacks made with the dynamic provider find it.

The engine pickled the provider into every such resource's state by reference to this path, so it stays
importable here whatever the package's layout; the face itself lives in `clevercloud_tcp.faces.dynamic`.
"""

from .faces.dynamic import TcpRedirectionProvider

__all__ = ["TcpRedirectionProvider"]
