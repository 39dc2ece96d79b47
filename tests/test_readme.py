"""The README's notebook section runs as written."""
from __future__ import annotations

import os
import re

from conftest import ROOT


def test_the_notebook_section_of_the_readme_runs(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## In a notebook"):readme.index("## The report")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) >= 2
    here = os.getcwd()
    os.chdir(ROOT)  # as a notebook opened in the project folder
    try:
        exec(compile("\n".join(blocks), "README.md", "exec"), {})
    finally:
        os.chdir(here)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith("['source', 'article', 'article_index', 'article_id', 'paragraph', 'id']")
    assert "'平顺县', 'employment'" in printed[1]
    assert printed[3].startswith("['.countythemes.json', 'classifier.png', 'index.html'")
