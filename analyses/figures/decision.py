"""Decision-tree figure (§10.4): the measured tree beside the paper's, as boxes and edges."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.patches import Patch
from profkit.analyses.decision import PARALLEL
from profkit.analyses.figures.base import new

NODE_FONT, EDGE_FONT, TITLE_FONT = 10, 9, 12
WRAP = 24  # characters per line in a box: five leaves side by side must not touch


@dataclass
class Node:
    text: str
    children: list[Node] = field(default_factory=list)
    edge: str = ""  # label of the edge from the parent
    tone: str = "inner"  # inner, win, open, none, agree, disagree, unknown


TONES = {"inner": "#eeeeee", "win": "#d9f0d3", "open": "#fde0c5", "none": "#f7f7f7",
         "agree": "#a6dba0", "disagree": "#f4a6a0", "unknown": "#c6dbef"}
LEGEND = {"agree": "measured winner agrees with the paper",
          "disagree": "measured winner disagrees with the paper",
          "unknown": "measured winner; agreement cannot be told",
          "none": "no runs in this leaf"}

PAPER = Node("Setting", [
    Node("# layers", [
        Node("Parallel computing?", [Node("ALSH-approx [50]", edge="yes", tone="win"),
                                     Node("Open problem (Tab. 3)", edge="no", tone="open")],
             edge="shallow\n(<= 4)"),
        Node("Open problem (Fig. 3)", edge="deep\n(> 4)", tone="open")], edge="SGD"),
    Node("MC-approx (§9.3, Tab. 4)", edge="mini-batch", tone="win")])


def leaf_tone(agrees) -> str:
    """agree / disagree / unknown from a leaf's `agrees` (bool, numpy bool, None or NA)."""
    if agrees is None or pd.isna(agrees):
        return "unknown"
    return "agree" if bool(agrees) else "disagree"


def measured_tree(leaves: pd.DataFrame) -> Node:
    """The measured tree for one dataset from decision.leaves rows."""
    def leaf(setting: str, depth: str, edge: str | None = None) -> Node:
        edge = _depth_edge(depth) if edge is None else edge
        r = leaves[(leaves["setting"] == setting) & (leaves["depth"] == depth)]
        if r.empty or pd.isna(r["winner"].iloc[0]):
            return Node("no data", edge=edge, tone="none")
        r = r.iloc[0]
        return Node(f"{r['winner']}\n{r['evidence'].split(';')[0]}", edge=edge,
                    tone=leaf_tone(r["agrees"]))

    parallel = Node("Parallel computing?", [leaf("SGD", PARALLEL, "yes"),
                                            leaf("SGD", "shallow", "no")],
                    edge=_depth_edge("shallow"))
    return Node("Setting", [
        Node("# layers", [parallel, leaf("SGD", "deep")], edge="SGD\n(batch 1)"),
        Node("# layers", [leaf("mini-batch", "shallow"), leaf("mini-batch", "deep")],
             edge="mini-batch")])


def _depth_edge(depth: str) -> str:
    return "shallow\n(<= 4)" if depth == "shallow" else "deep\n(> 4)"


def _layout(node: Node, depth: int, next_x: list[float], pos: dict) -> float:
    if not node.children:
        x = next_x[0]
        next_x[0] += 1
    else:
        x = sum(_layout(c, depth + 1, next_x, pos) for c in node.children) / len(node.children)
    pos[id(node)] = (x, -depth)
    return x


def _draw(ax, root: Node, title: str) -> None:
    pos: dict = {}
    _layout(root, 0, [0.0], pos)
    _draw_node(ax, root, pos)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.45, 0.3)
    ax.set_title(title, fontsize=TITLE_FONT)
    ax.axis("off")


def _draw_node(ax, node: Node, pos: dict) -> None:
    x, y = pos[id(node)]
    for c in node.children:
        cx, cy = pos[id(c)]
        ax.plot([x, cx], [y, cy], color="#888888", lw=1, zorder=1)
        # nearer the parent than the child: a tall leaf box must not hide its edge's label
        lx, ly = x + 0.4 * (cx - x), y + 0.4 * (cy - y)
        ax.text(lx, ly, c.edge, fontsize=EDGE_FONT, ha="center", va="center",
                color="#333333", bbox=dict(fc="white", ec="none", pad=0.5), zorder=2)
        _draw_node(ax, c, pos)
    text = "\n".join(textwrap.fill(t, WRAP) for t in node.text.split("\n"))
    ax.text(x, y, text, ha="center", va="center", fontsize=NODE_FONT, zorder=3,
            gid=f"node-{node.tone}",
            bbox=dict(boxstyle="round,pad=0.4", fc=TONES[node.tone], ec="#555555"))


def trees(leaves: pd.DataFrame, dataset: str):
    """Measured tree (left, for `dataset`) beside the paper's tree (right), with a colour key."""
    # stacked, each tree the page's full width: five leaves side by side need the room
    fig, ax = new(nrows=2, w=13.0, h=4.8)
    _draw(ax[0, 0], measured_tree(leaves[leaves["dataset"] == dataset]),
          f"Measured here ({dataset})")
    _draw(ax[1, 0], PAPER, "The paper's tree (§10.4)")
    key = [Patch(fc=TONES[t], ec="#555555", label=s) for t, s in LEGEND.items()]
    key.append(Patch(fc=TONES["win"], ec="#555555", label="paper: a method"))
    key.append(Patch(fc=TONES["open"], ec="#555555", label="paper: open problem"))
    fig.legend(handles=key, loc="lower center", ncol=3, fontsize=EDGE_FONT, frameon=False,
               bbox_to_anchor=(0.5, -0.03))
    return fig
