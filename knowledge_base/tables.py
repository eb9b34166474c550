"""Tables laid out cell by cell become one readable line per row.

``render_table([["指标", "2020年基数", "2025年目标", "属性"], ["1.参保率", "95.1%", "95%以上", "约束性"]])``
→ ``["1.参保率：2020年基数 95.1%，2025年目标 95%以上，属性 约束性"]``. A row keeps its label and every
value next to the header naming it, so a passage holding the row answers "2025年目标是多少" on its own.
"""

from __future__ import annotations

import re

_LABEL_HEADER = re.compile(r"^(主要)?(指\s*标|项\s*目|名\s*称|事\s*项|内\s*容)$")


def render_table(rows: list[list[str]]) -> list[str]:
    """Rows of cells (the first row is the header) in, one ``label：header value，…`` line per body row out."""
    if not rows:
        return []
    header = [re.sub(r"\s+", "", cell) for cell in rows[0]]
    label_column = next((i for i, name in enumerate(header) if _LABEL_HEADER.match(name)), 0)
    lines = []
    for cells in rows[1:]:
        cells = [cell.strip() for cell in cells] + [""] * (len(header) - len(cells))
        label = cells[label_column]
        values = [
            f"{header[i]} {cell}" if i < len(header) and header[i] else cell
            for i, cell in enumerate(cells)
            if i != label_column and cell
        ]
        if label or values:
            lines.append(f"{label}：{'，'.join(values)}" if label else "，".join(values))
    return lines
