"""The ``policenet`` command: one program, two roles (hub and node).

Errors the program raises on purpose are printed as one line naming what was
wrong, with exit status 1; nothing prints a traceback at a user.
"""

from __future__ import annotations

import sys

import typer

from policenet.cli import audit, hub, member, node
from policenet.cli.demo import demo
from policenet.errors import PolicenetError

app = typer.Typer(
    help="policenet: police cooperation across borders (hub and member nodes).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(hub.app, name="hub")
app.add_typer(member.app, name="member")
app.add_typer(node.app, name="node")
app.add_typer(audit.app, name="audit")
app.command("demo")(demo)


def main() -> None:
    try:
        app()
    except PolicenetError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        if exc.detail:
            typer.echo(f"  detail: {exc.detail}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
