"""``python run.py console-tokens``: print a ``console.users`` block with fresh tokens for the config.

Without configured users the console generates one token per role at every start and prints them once;
fixed tokens (one per person, so actions carry a real operator name) go in ``config/livecs.yaml`` or, better,
in the environment (``LIVECS_CONSOLE__USERS='[{name: 小王, role: operator, token: …}]'``).
"""

from __future__ import annotations

import argparse
from typing import Any

from livecs.console.auth import Role
from livecs.serving import new_token


def _cmd_tokens(args: argparse.Namespace) -> int:
    names: list[str] = args.user or [r.value for r in Role]
    lines = ["console:", "  users:"]
    for spec in names:
        name, _, role = spec.partition(":")
        role = role or (name if name in {r.value for r in Role} else Role.OPERATOR.value)
        if role not in {r.value for r in Role}:
            print(f"unknown role {role!r} (operator, streamer, merchant, admin)")
            return 2
        lines.append(f'    - {{name: "{name}", role: {role}, token: "{new_token()}"}}')
    print("\n".join(lines))
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("console-tokens", help="print console users with fresh tokens (config snippet)")
    p.add_argument(
        "--user",
        action="append",
        metavar="NAME[:ROLE]",
        help="a user (repeatable), e.g. 小王:operator; default one per role",
    )
    p.set_defaults(func=_cmd_tokens)
