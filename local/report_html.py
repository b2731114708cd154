"""The report as one self-contained HTML page: figures embedded as data URIs, no scripts, no
external resources, so the file can be mailed, attached to a review or opened offline."""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Any

from local.report import SCALARS, TOP_COLUMNS, ReportData, column_importances, signed

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1000px;padding:0 1rem;color:#1d2328;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #dde3e8;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .8rem;text-align:left;
border-bottom:1px solid #eef1f4}th{background:#f5f7f9}td.num{text-align:right;
font-variant-numeric:tabular-nums}.better{color:#1a7f37}.worse{color:#c62828}
.muted{color:#66717b}.figures{display:flex;flex-wrap:wrap;gap:1rem}
.figures figure{margin:0}figcaption{font-size:.85rem;color:#66717b}
pre{background:#f5f7f9;padding:.6rem;overflow-x:auto;font-size:.85rem}
"""


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _change_cell(text: str) -> str:
    css = "better" if "better" in text else "worse" if "worse" in text else "muted"
    return f'<td class="num {css}">{escape(text)}</td>'


def _metrics(data: ReportData) -> list[str]:
    if not data.metrics:
        return []
    versus = f" vs {escape(data.previous.run_id)}" if data.previous else ""
    html = [
        "<h2>Metrics (test split)</h2>",
        f"<table><tr><th>metric</th><th>value</th><th>change{versus}</th></tr>",
    ]
    for name in SCALARS:
        if name in data.metrics:
            html.append(
                f'<tr><td>{name}</td><td class="num">{data.metrics[name]:.4f}</td>'
                + _change_cell(signed(data.delta(name), name))
                + "</tr>"
            )
    rows = f"{data.metrics.get('n_train')} / {data.metrics.get('n_test')}"
    html.append(f'<tr><td>rows (train / test)</td><td class="num">{rows}</td><td></td></tr>')
    html.append("</table>")
    if data.previous is None:
        html.append('<p class="muted">No previous local run of this pipeline to compare with.</p>')
    return html


def _champion(data: ReportData) -> list[str]:
    champion = data.champion()
    if not champion:
        return []
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{escape(_fmt(v))}</td></tr>" for k, v in champion.items()
    )
    return ["<h2>Champion comparison</h2>", f"<table>{rows}</table>"]


def _figures(data: ReportData) -> list[str]:
    if not data.figures:
        return []
    versus = f" (grey: {data.previous.run_id})" if data.previous else ""
    captions = {
        "roc.png": f"ROC curve{versus}",
        "pr.png": f"Precision-recall curve{versus}",
        "confusion.png": "Confusion matrix",
        "importance.png": "Feature importance per input column (one-hot levels summed)",
    }
    html = ['<h2>Figures</h2><div class="figures">']
    for name, png in data.figures.items():
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        caption = escape(captions.get(name, name))
        html.append(f'<figure><img src="{uri}" alt="{caption}"><figcaption>{caption}</figcaption>')
        html.append("</figure>")
    html.append("</div>")
    return html


def _importances(data: ReportData) -> list[str]:
    columns = column_importances(data.metrics)[:TOP_COLUMNS]
    if not columns:
        return []
    rows = "".join(f'<tr><td>{escape(c)}</td><td class="num">{v:.4f}</td></tr>' for c, v in columns)
    return [
        "<h2>Feature importance per input column</h2>",
        f"<table><tr><th>column</th><th>importance</th></tr>{rows}</table>",
    ]


def _steps(data: ReportData) -> list[str]:
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="num">{sec:.1f}</td><td>{escape(figure)}</td></tr>'
        for name, sec, figure in data.steps
    )
    total = f'<tr><th>total</th><th class="num">{data.total_seconds:.1f}</th><th></th></tr>'
    return [
        "<h2>Steps</h2>",
        f"<table><tr><th>step</th><th>seconds</th><th>result</th></tr>{rows}{total}</table>",
    ]


def _json_block(title: str, value: Any) -> list[str]:
    text = json.dumps(value, indent=2, sort_keys=True, default=str)
    return [f"<h2>{escape(title)}</h2>", f"<pre>{escape(text)}</pre>"]


def render_html(data: ReportData) -> str:
    """The whole page."""
    shown = [
        f"{escape(k)} = <code>{escape(_fmt(data.outputs[k]))}</code>"
        for k in data.summary_outputs
        if k in data.outputs
    ]
    body = [
        f"<h1>{escape(data.run_id)}</h1>",
        f'<p class="muted">Pipeline <code>{escape(data.pipeline)}</code>, run locally in '
        f"{data.total_seconds:.1f} s.</p>",
    ]
    if shown:
        body.append("<p>" + "; ".join(shown) + "</p>")
    body += _metrics(data) + _champion(data) + _figures(data) + _importances(data)
    body += _steps(data) + _json_block("Parameters", data.parameters)
    if data.metrics.get("params"):
        body += _json_block("Model parameters", data.metrics["params"])
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(data.run_id)}</title>"
        # no favicon request (a file:// page would log it as a failed load)
        '<link rel="icon" href="data:,">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
