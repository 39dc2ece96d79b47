#!/usr/bin/env python3
"""Train the theme classifier on seeds/ and write models/: see README.md or ``--help``."""
import sys
from pathlib import Path

from countythemes.cli import train_main

if __name__ == "__main__":
    sys.exit(train_main(project=Path(__file__).resolve().parent))
