"""examples/explore.ipynb runs from top to bottom and shows what it says it shows."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "explore.ipynb"

#: Long enough for a year's simulation twice on a slow machine; a hung kernel still fails.
CELL_TIMEOUT_SECONDS = 300


def test_the_notebook_executes_and_shows_tables_and_the_plot() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        "the notebook is stored without outputs"
    )
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on any failing cell
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    kinds = [set(o.get("data", {})) for o in outputs]
    assert any("image/png" in k for k in kinds)  # the plot
    assert sum("text/html" in k for k in kinds) >= 3  # the month, the frames, the summary
    text = "".join(o.get("text", "") for o in outputs)
    assert "12 months" in text
