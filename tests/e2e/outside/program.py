"""A Python user's inline Automation API program: `python program.py up|destroy APP_ID`, a JSON line out."""

import json
import sys

import pulumi
import pulumi_clevercloud_tcp as clevercloud_tcp
from pulumi import automation as auto

command, app_id = sys.argv[1], sys.argv[2]


def program() -> None:
    for namespace in ("cleverapps", "default"):
        redirection = clevercloud_tcp.TcpRedirection(namespace, app_id=app_id, namespace=namespace)
        pulumi.export(f"{namespace}Port", redirection.port)


stack = auto.create_or_select_stack(stack_name="dev", project_name="outside-python", program=program)
if command == "up":
    print(json.dumps({name: output.value for name, output in stack.up().outputs.items()}))
else:
    stack.destroy()
    print("{}")
