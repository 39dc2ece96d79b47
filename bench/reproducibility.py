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

from countythemes.modelfiles import TOLERANCE, discrete_differences, float_differences, read_model_files  # noqa: E402
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
            differences = float_differences(first, second)
            identical = sorted(where for where, pair in differences.items() if pair == (0.0, 0.0))
            print(f"  {'floats at':<52}{'max abs':>10}{'max rel':>10}")
            for where, (absolute, relative) in sorted(differences.items()):
                if (absolute, relative) != (0.0, 0.0):
                    print(f"  {where:<52}{absolute:>10.2g}{relative:>10.2g}")
            print(f"  identical: {len(identical)} other float paths ({', '.join(identical[:4])} …)")
            print(f"  largest absolute difference {max(a for a, _ in differences.values()):.2g} "
                  f"(TOLERANCE {TOLERANCE:g} * max(1, |x|))")


if __name__ == "__main__":
    main()
