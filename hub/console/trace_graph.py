"""A trace's genealogy as SVG drawn on the server, from the nodes and links the trace service answered (what
the API would disclose, nothing more): one column per link level, the root on the left.

Bounded: at most ``PER_LEVEL`` boxes in a column and ``MAX_NODES`` in all; the rest of a column is one box
"+ n more". What the caller may not see is one dashed box of counts ("4 lots, 2 serial parts at 2 other
organizations"), never a name. No script and no inline style (the console's policy allows neither)."""

from __future__ import annotations

import uuid
from collections import defaultdict

from markupsafe import Markup, escape

from hub.console.i18n import translate as _
from protocol.models.trace import TraceNode, TraceResult

MAX_NODES = 40
PER_LEVEL = 8
BOX_W, BOX_H = 168, 40
GAP_X, GAP_Y = 56, 14
PAD = 12


def _levels(result: TraceResult) -> list[list[TraceNode]]:
    by_depth: dict[int, list[TraceNode]] = defaultdict(list)
    for node in result.nodes:
        by_depth[node.depth].append(node)
    return [by_depth[depth] for depth in sorted(by_depth)]


def _box(x: float, y: float, css: str, lines: list[str], tip: str) -> str:
    texts = "".join(
        f'<text class="{"label" if i == 0 else "sub"}" x="{x + 8}" y="{y + 16 + i * 15}">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    return (
        f'<g class="{css}"><title>{escape(tip)}</title>'
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4"/>{texts}</g>'
    )


def _short(text: str, size: int = 22) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _undisclosed_lines(result: TraceResult) -> list[str]:
    hidden = result.undisclosed
    return [
        _("%(batches)s lots, %(serials)s serial parts")
        % {"batches": hidden.batches, "serials": hidden.serials},
        _("at %(count)s other organizations") % {"count": hidden.organizations},
    ]


def genealogy_graph(result: TraceResult, names: dict[uuid.UUID, str]) -> Markup:
    """The graph of ``result`` in the current locale (:func:`hub.console.i18n.speaking`); ``names`` are the
    organizations the trace itself named (``by_organization``)."""
    levels = _levels(result)
    shown: dict[uuid.UUID, tuple[float, float]] = {}
    boxes: list[str] = []
    budget = MAX_NODES
    tallest = 0
    for column, nodes in enumerate(levels):
        x = PAD + column * (BOX_W + GAP_X)
        room = max(1, min(PER_LEVEL, budget))
        visible = nodes if len(nodes) <= room else nodes[: room - 1]
        for row, node in enumerate(visible):
            y = PAD + row * (BOX_H + GAP_Y)
            shown[node.asset_id] = (x, y)
            what = _("lot") if node.kind == "batch" else _("serial part")
            owner = names.get(node.organization_id, "")
            sub = node.model or node.manufacturer_part_id
            css = "node root" if node.root else "node"
            tip = f"{what} {node.local_id} · {node.manufacturer_part_id} · {owner}"
            boxes.append(_box(x, y, css, [_short(node.local_id), _short(f"{sub} · {owner}")], tip))
        rows = len(visible)
        if len(nodes) > len(visible):
            more = len(nodes) - len(visible)
            y = PAD + rows * (BOX_H + GAP_Y)
            text = _("+ %(count)s more") % {"count": more}
            boxes.append(_box(x, y, "node more", [text], text))
            rows += 1
        budget -= len(visible)
        tallest = max(tallest, rows)
    columns = len(levels)
    hidden = result.undisclosed
    if hidden.batches or hidden.serials:
        x = PAD + columns * (BOX_W + GAP_X)
        lines = _undisclosed_lines(result)
        boxes.append(_box(x, PAD, "node undisclosed", lines, " ".join(lines)))
        columns += 1
        tallest = max(tallest, 1)
    edges = []
    for link in result.links:
        # Forward, a lot goes into its parent (to the right); backward, the parent's parts are to the right.
        start, end = (
            (link.child_id, link.parent_id)
            if result.direction == "forward"
            else (link.parent_id, link.child_id)
        )
        if start in shown and end in shown:
            (x1, y1), (x2, y2) = shown[start], shown[end]
            edges.append(
                f'<line class="edge" x1="{x1 + BOX_W}" y1="{y1 + BOX_H / 2}" x2="{x2}" y2="{y2 + BOX_H / 2}"/>'
            )
    width = PAD * 2 + max(1, columns) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max(1, tallest) * (BOX_H + GAP_Y) - GAP_Y
    label = _("Genealogy: %(count)s assets shown") % {"count": len(result.nodes)}
    return Markup(  # noqa: S704 - every interpolated text is escaped above
        f'<svg class="genealogy" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
        + "".join(edges)
        + "".join(boxes)
        + "</svg>"
    )
