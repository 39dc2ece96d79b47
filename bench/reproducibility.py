#!/usr/bin/env python3
"""How far apart trainings on different BLAS kernels are: the measurement behind ``modelfiles.TOLERANCE``.

OpenBLAS picks its kernels for the CPU (``OPENBLAS_CORETYPE`` overrides the choice), and kernels
round differently. This trains the seeds once per kernel this CPU can run and prints, for every
pair, the largest absolute and relative difference of each model file's floats, and whether the
discrete results (``modelfiles.discrete_differences``) agree exactly.

Usage: ``python bench/reproducibility.py [--cores Haswell,Sandybridge,...]``
"""
from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from countythemes.modelfiles import discrete_differences, float_differences, read_model_files  # noqa: E402
from countythemes.workers import openblas_core_types  # noqa: E402


def train(core: str, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "train.py"), "--out", str(out)], check=True, cwd=ROOT,
                   env=dict(os.environ, OPENBLAS_CORETYPE=core), capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default=None, help="comma-separated OpenBLAS core types (default: all this CPU runs)")
    args = parser.parse_args()
    cores = args.cores.split(",") if args.cores else openblas_core_types()
    print(f"OpenBLAS core types this CPU runs: {', '.join(cores)}")
    with tempfile.TemporaryDirectory() as scratch:
        folders = {}
        for core in cores:
            folders[core] = Path(scratch) / core
            print(f"train.py under OPENBLAS_CORETYPE={core}: {train(core, folders[core]):.1f} s", flush=True)
        for a, b in itertools.combinations(cores, 2):
            first, second = read_model_files(folders[a]), read_model_files(folders[b])
            discrete = discrete_differences(first, second)
            print(f"\n{a} vs {b}: discrete results {'identical' if not discrete else 'DIFFER: ' + '; '.join(discrete[:5])}")
            print(f"  {'where':<44}{'max abs':>12}{'max rel':>12}")
            for where, (absolute, relative) in sorted(float_differences(first, second).items()):
                print(f"  {where:<44}{absolute:>12.3g}{relative:>12.3g}")


if __name__ == "__main__":
    main()
