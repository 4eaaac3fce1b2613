"""Entry point for `pulumi up` in this folder."""

from redirections import program

program()
