#!/usr/bin/env python3
"""Read, classify and report on county news articles: see README.md or ``--help``."""
import sys
from pathlib import Path

from countythemes.cli import analyze_main

if __name__ == "__main__":
    sys.exit(analyze_main(project=Path(__file__).resolve().parent))
