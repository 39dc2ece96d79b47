#!/usr/bin/env python3
"""The theme classifier's figures (issue 18), each with the command that gives it.

Cross-validation (all, per source), calibration, the uncertain threshold and
the learning curve come from the committed ``models/manifest.json`` (written
by ``python train.py``); the dev set is scored by ``bench/dev.py`` (the model,
and the zero-shot classifier); the cold start is timed here. The archive's
speed is ``bench/speed.py``'s.

    python bench/themes.py
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    manifest = json.loads((ROOT / "models" / "manifest.json").read_text(encoding="utf-8"))
    cv = manifest["cross_validation"]
    print(f"grouped CV (python train.py; models/manifest.json), {manifest['training']['labeled']} labels: "
          f"macro-F1 {cv['model']['macro_f1']:.3f}, accuracy {cv['model']['accuracy']:.3f}; "
          f"typical words {cv['typical_words']['macro_f1']:.3f}")
    print("  per theme F1: " + ", ".join(f"{k} {v['f1']:.3f}" for k, v in cv["model"]["per_theme"].items()))
    print("  per source: " + ", ".join(f"{k} {v['macro_f1']:.3f} ({v['paragraphs']})"
                                       for k, v in cv["per_source"].items()))
    flag = cv["uncertain"]
    print(f"  calibration error (ECE, 10 bins) {cv['calibration_error']:.3f}; uncertain below {cv['threshold']:.2f}: "
          f"{flag['flagged']} flagged, precision {flag['precision']:.2f} (share of flagged answers that are wrong), "
          f"{flag['wrong_flagged']} of {flag['wrong']} wrong answers caught")
    print("  learning curve: " + ", ".join(f"{p['labeled']} → {p['macro_f1']:.3f}" for p in manifest["learning_curve"]))
    for extra in ([], ["--zero-shot"]):
        command = [sys.executable, "bench/dev.py", *extra]
        print(f"$ python bench/dev.py {' '.join(extra)}".rstrip())
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        print("  " + "\n  ".join(result.stdout.strip().splitlines()[:3] or [result.stderr.strip()]))
    story = ROOT / "seeds" / "000_9e47b3ad6944e131.txt"
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "analyze.py", "classify", str(story), "--no-topics"], cwd=ROOT,
                       capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    print(f"cold start: python analyze.py classify {story.relative_to(ROOT)} --no-topics: "
          f"{statistics.median(times):.2f} s (median of 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
