"""The report reads well: plain loss-axis ticks, the verdict as real HTML, units under tables."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from zetalab.evaluation import plots
from zetalab.evaluation.htmlpage import markdown_page, markdown_to_html
from zetalab.evaluation.leaderboard import UNITS_NOTE, build_table, summary_lines, to_html
from zetalab.evaluation.verdict import RunResult, ab_verdict, verdict_markdown


def _history(first: float, last: float, validation: float) -> pd.DataFrame:
    epoch = np.arange(1, 31)
    decay = np.exp(-epoch / 6)
    return pd.DataFrame(
        {
            "epoch": epoch,
            "loss_total": last + (first - last) * decay,
            "validation_loss": validation * (1 + 0.15 * decay),
            "extrap_rmse_spacing": 0.25 + 0.01 * decay,
        }
    )


def _drawn_loss_axes(monkeypatch, tmp_path, histories) -> list[plt.Axes]:
    figures = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: figures.append(fig))
    plots.loss_curves(histories, tmp_path / "loss.png", {"smooth": 0.27})
    (fig,) = figures
    fig.canvas.draw()
    return fig.axes


def _labels(ax: plt.Axes) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text()]


@pytest.mark.parametrize(
    ("first", "last", "validation"),
    [(1.28882, -0.0378698, 0.06), (0.093, 0.051, 0.0604), (1.2, 1.1, 1e-3)],
    ids=["signed", "narrow", "flat"],
)
def test_loss_panels_have_plain_readable_ticks(monkeypatch, tmp_path, first, last, validation):
    histories = {"fullbatch seed0": _history(first, last, validation)}
    histories["minibatch seed0"] = _history(0.09, 0.05, validation * 1.01)
    for ax in _drawn_loss_axes(monkeypatch, tmp_path, histories)[:2]:
        labels = _labels(ax)
        assert len(labels) >= 3, labels
        for label in labels:
            # the bug: "$\\mathdefault{1.28882\\times10^{0}}$" (symlog or a sub-decade log)
            assert "times" not in label and "×" not in label, labels
            assert DECADE.fullmatch(label) or PLAIN.fullmatch(label), labels
        if ax.get_yscale() == "linear":
            values = [float(label.replace("−", "-")) for label in labels]
            assert values == sorted(values) and len(set(values)) == len(values)


DECADE = re.compile(r"\$\\mathdefault\{10\^\{[−-]?\d+\}\}\$")
PLAIN = re.compile(r"[−-]?\d{1,3}(\.\d{1,4})?")


def test_a_loss_over_decades_keeps_a_log_axis(monkeypatch, tmp_path):
    epoch = np.arange(1, 51)
    wide = pd.DataFrame(
        {
            "epoch": epoch,
            "loss_total": 10.0 * np.exp(-epoch / 5),
            "validation_loss": 5.0 * np.exp(-epoch / 6),
            "extrap_rmse_spacing": 0.3 + 0 * epoch,
        }
    )
    axes = _drawn_loss_axes(monkeypatch, tmp_path, {"fullbatch seed0": wide})
    assert axes[0].get_yscale() == "log" and axes[1].get_yscale() == "log"


def _verdict_markdown() -> str:
    rng = np.random.default_rng(0)
    runs = [
        RunResult(v, s, "completed", float(0.02 * np.exp(rng.normal(0, 0.3))), 0.03)
        for v in ("fullbatch", "minibatch", "fullbatch-norg")
        for s in range(3)
    ]
    return verdict_markdown(ab_verdict(runs))


def test_verdict_markdown_becomes_real_html():
    markdown = _verdict_markdown()
    page = markdown_page("A/B verdict", markdown)
    assert page.startswith("<!DOCTYPE html>") and "<pre" not in page
    assert re.search(r"<h1>A/B verdict: [^<]+</h1>", page)
    header = markdown.splitlines()[markdown.splitlines().index("") + 5]
    assert header.startswith("| comparison")
    rows = [line for line in markdown.splitlines() if line.startswith("|")]
    n_rows = sum(1 for line in rows if not line.startswith("|---"))
    assert page.count("<tr>") == n_rows and "<th>comparison</th>" in page
    assert page.count("<table>") == 2  # the comparisons, then each run's training record
    assert "|---" not in page and "| " not in page  # no markdown table syntax left
    notes = [line[2:] for line in markdown.splitlines() if line.startswith("- ")]
    assert page.count("<li>") == len(notes) > 0


def test_markdown_converter_escapes_and_renders_inline():
    body = markdown_to_html(
        "# T <1>\n\npara `x<y` and **bold**\nsame para\n\n- a & b\n- c\n\n"
        "| a | b |\n|---|---:|\n| 1 | <2> |\n"
    )
    assert "<h1>T &lt;1&gt;</h1>" in body
    assert "<p>para <code>x&lt;y</code> and <strong>bold</strong> same para</p>" in body
    assert "<ul><li>a &amp; b</li><li>c</li></ul>" in body
    assert "<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>&lt;2&gt;</td></tr></table>" in (
        body
    )


def test_leaderboard_html_has_the_units_footnote_of_the_markdown():
    rows = [
        {"name": "fullbatch", "kind": "model", "seed": 0, "status": "completed"},
        {"name": "smooth", "kind": "baseline"},
    ]
    for row in rows:
        row.update(extrapolation_mse_height=0.01, holdout_mse_height=0.02)
        row.update(extrapolation_rmse_spacing=0.2, holdout_rmse_spacing=0.3, holdout_skill=0.0)
    df = build_table(rows)
    page = to_html(df, summary_lines(df))
    assert "mean spacings 2π/log(γ/2π)" in UNITS_NOTE and "height units" in UNITS_NOTE
    assert UNITS_NOTE.replace("&", "&amp;") in page
    assert page.index(UNITS_NOTE[:30]) > page.index("</table>")


def test_epoch_axes_tick_whole_epochs(monkeypatch, tmp_path):
    short = _history(0.3, 0.2, 0.1).head(2)
    for ax in _drawn_loss_axes(monkeypatch, tmp_path, {"fullbatch seed0": short}):
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
