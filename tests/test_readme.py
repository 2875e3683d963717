"""The README's Python examples run as written (so the README stays true)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 3, "the README shows an example of each package"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:       # later blocks use names from earlier ones, as a reader would
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "(1, 3) (3, 2)" in out and "12.0 12.0" in out
    assert (tmp_path / "net.npz").exists() and (tmp_path / "net_graph.dot").exists()
    loss = float(re.search(r"loss ([\d.]+)", out).group(1))
    assert loss < 0.1, out
