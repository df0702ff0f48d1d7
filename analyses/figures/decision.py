"""Decision-tree figure (§10.4): the measured tree beside the paper's, as boxes and edges."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import pandas as pd
from profkit.analyses.figures.base import new


@dataclass
class Node:
    text: str
    children: list[Node] = field(default_factory=list)
    edge: str = ""  # label of the edge from the parent
    tone: str = "inner"  # inner, win, open, none, agree, disagree


TONES = {"inner": "#eeeeee", "win": "#d9f0d3", "open": "#fde0c5", "none": "#f2f2f2",
         "disagree": "#f4c7c3"}

PAPER = Node("Setting", [
    Node("# layers", [
        Node("Parallel computing", [Node("ALSH-approx [50]", edge="yes", tone="win"),
                                    Node("Open problem (Tab. 3)", edge="no", tone="open")],
             edge="shallow (<= 4)"),
        Node("Open problem (Fig. 3)", edge="deep (> 4)", tone="open")], edge="SGD"),
    Node("MC-approx (§9.3, Tab. 4)", edge="mini-batch", tone="win")])


def measured_tree(leaves: pd.DataFrame) -> Node:
    """The measured tree for one dataset from decision.leaves rows."""
    def leaf(setting: str, depth: str) -> Node:
        r = leaves[(leaves["setting"] == setting) & (leaves["depth"] == depth)]
        if r.empty or pd.isna(r["winner"].iloc[0]):
            return Node("no data", edge=_depth_edge(depth), tone="none")
        r = r.iloc[0]
        tone = "disagree" if r["agrees"] is False else "win"
        return Node(f"{r['winner']}\n{r['evidence'].split(';')[0]}", edge=_depth_edge(depth),
                    tone=tone)

    return Node("Setting", [
        Node("# layers", [leaf("SGD", "shallow"), leaf("SGD", "deep")], edge="SGD (batch 1)"),
        Node("# layers", [leaf("mini-batch", "shallow"), leaf("mini-batch", "deep")],
             edge="mini-batch")])


def _depth_edge(depth: str) -> str:
    return "shallow (<= 4)" if depth == "shallow" else "deep (> 4)"


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
    ax.set_ylim(min(ys) - 0.6, 0.5)
    ax.set_title(title, fontsize=10)
    ax.axis("off")


def _draw_node(ax, node: Node, pos: dict) -> None:
    x, y = pos[id(node)]
    for c in node.children:
        cx, cy = pos[id(c)]
        ax.plot([x, cx], [y, cy], color="#888888", lw=1, zorder=1)
        ax.text((x + cx) / 2, (y + cy) / 2, c.edge, fontsize=7, ha="center", va="center",
                color="#333333", bbox=dict(fc="white", ec="none", pad=0.5), zorder=2)
        _draw_node(ax, c, pos)
    text = "\n".join(textwrap.fill(t, 16) for t in node.text.split("\n"))
    ax.text(x, y, text, ha="center", va="center", fontsize=6.5, zorder=3,
            bbox=dict(boxstyle="round,pad=0.4", fc=TONES[node.tone], ec="#555555"))


def trees(leaves: pd.DataFrame, dataset: str):
    """Measured tree (left, for `dataset`) beside the paper's tree (right)."""
    fig, ax = new(ncols=2, w=7.0, h=4.2)
    _draw(ax[0, 0], measured_tree(leaves[leaves["dataset"] == dataset]),
          f"Measured here ({dataset})")
    _draw(ax[0, 1], PAPER, "The paper's tree (§10.4)")
    return fig
