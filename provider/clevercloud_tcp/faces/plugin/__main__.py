"""`python -m clevercloud_tcp.faces.plugin ENGINE_ADDRESS`, the same as `pulumi-resource-clevercloud-tcp`."""

from . import main

main()
