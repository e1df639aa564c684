#!/usr/bin/env python3
"""Entry point: ``python run.py <command> --help`` (see README)."""

import sys

from livecs.cli import main

if __name__ == "__main__":
    sys.exit(main())
