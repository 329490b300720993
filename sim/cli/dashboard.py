"""The ``sim dashboard`` command (registered on the app in :mod:`sim.cli`).

Serves the interactive dashboard of :mod:`sim.report.dashboard` until Ctrl-C. Bad options raise
:class:`~sim.model.params.ParamError` (one line, exit code 2) before the server starts.
"""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from sim.model.params import POLICIES, ParamError, Params
from sim.model.scenarios import DEFAULT_SCENARIO, SCENARIOS

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765  # Solara's and Mesa's usual port
DEFAULT_USERS = 10_000
DEFAULT_DAYS = 730


def dashboard_command(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="port to serve on, 1 to 65535")
    ] = DEFAULT_PORT,
    host: Annotated[
        str,
        typer.Option(
            metavar="ADDRESS",
            help="address to listen on; the default serves this machine only "
            "(0.0.0.0 opens it to the network)",
        ),
    ] = DEFAULT_HOST,
    scenario: Annotated[
        str,
        typer.Option(metavar="NAME", help=f"market to start with: {', '.join(SCENARIOS)}"),
    ] = DEFAULT_SCENARIO,
    policy: Annotated[
        str | None,
        typer.Option(
            metavar="POLICY",
            help=f"objective of every provider to start with: {', '.join(POLICIES)}; "
            "default: feeds pursue attention, companions intimacy",
        ),
    ] = None,
    users: Annotated[
        int, typer.Option(help="users in the first run, 10 to 1,000,000")
    ] = DEFAULT_USERS,
    days: Annotated[
        int, typer.Option(help="length of the first run, 1 to 3,650 days")
    ] = DEFAULT_DAYS,
    seed: Annotated[int, typer.Option(help="root random seed of the first run")] = 0,
) -> None:
    """Serve an interactive dashboard: pick a market and objectives, move the providers' levers
    and key parameters, play, pause and step, and watch engagement, loyalty, wellbeing and
    revenue day by day, with attachment and loneliness across users.

    Open the printed address in a browser; Ctrl-C stops it. The options set the first run only.
    """
    options = _check(scenario, policy, users, days, seed)
    _check_free(host, port)
    from sim.report import dashboard

    dashboard.configure(**options)
    typer.echo(f"dashboard at http://{host}:{port} (Ctrl-C stops it)")
    dashboard.serve(host, port)


def _check(scenario: str, policy: str | None, users: int, days: int, seed: int) -> dict:
    """The set-up of the first run, or :class:`ParamError` naming the bad option."""
    if scenario not in SCENARIOS:
        raise ParamError(f"--scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    if policy is not None and policy not in POLICIES:
        raise ParamError(f"--policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    if not 10 <= users <= 1_000_000:
        raise ParamError(f"--users must be in [10, 1000000], got {users}")
    for name, value in (("days", days), ("seed", seed)):
        try:
            Params().set(f"run.{name}", value)
        except ParamError as e:
            raise ParamError(str(e).replace(f"run.{name}", f"--{name}", 1)) from None
    options = {"scenario": scenario, "users": users, "days": days, "seed": seed}
    if policy is not None:
        options |= {"feed_policy": policy, "companion_policy": policy}
    return options


def _check_free(host: str, port: int) -> None:
    """Refuse an address that cannot be listened on, before anything starts."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise ParamError(f"--host {host!r} is not an address of this machine: {e}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            raise ParamError(f"cannot serve on {host}:{port}: {e.strerror or e}") from None
