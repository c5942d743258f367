"""The maps of a large territory (reports.backbone.BACKBONE_FROM structures or more): the
family map, the zone map, the backbone of the structure map and the ego maps of the ten most
connected structures, drawn before the sections (a progress step of their own)."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import networkx as nx

from reports import backbone, figures, groupdraw, groups, mapdraw
from reports.structure import partner_count

EGOS = 10  # structures of the annex's ego maps, most connected first
GROUP_MAP_W_CM = 16.0


@dataclass(frozen=True)
class GroupPart:
    """A group map (families or zones) and its drawing."""

    gm: groups.GroupMap
    drawing: groupdraw.GroupDrawing


@dataclass(frozen=True)
class LargeMaps:
    family: GroupPart
    zone: GroupPart | None  # None when no structure is in a zone
    backbone: backbone.Backbone
    backbone_map: mapdraw.MapDrawing
    egos: list[tuple[Hashable, mapdraw.MapDrawing]]


def is_large(g: nx.DiGraph) -> bool:
    """True when the report shows the maps of a large territory (read at call time, so
    that tests may lower the threshold)."""
    return g.number_of_nodes() >= backbone.BACKBONE_FROM


def most_connected(g: nx.DiGraph, n: int = EGOS) -> list[Hashable]:
    """The `n` structures with most partners, ties broken by name."""
    return sorted(
        g.nodes, key=lambda v: (-partner_count(g, v), str(g.nodes[v].get("name", v)).lower())
    )[:n]


def group_part(gm: groups.GroupMap) -> GroupPart:
    return GroupPart(gm, groupdraw.draw_group_map(gm, groups.group_positions(gm), GROUP_MAP_W_CM))


def draw_large(
    g: nx.DiGraph,
    pos: dict[Hashable, tuple[float, float]],
    pairs: list[figures.Link],
    width_cm: float,
) -> LargeMaps:
    """Every map of the large report's map part and annex."""
    zones = groups.by_zone(g, pairs)
    bb = backbone.backbone(g, pairs)
    bb_map = mapdraw.draw_named_map(g, pos, bb.kept, backbone.named(g, bb), width_cm)
    centres = most_connected(g)
    # The partners of a hub are most of a large map: only the backbone's links among them.
    egos = mapdraw.draw_egos(g, centres, pairs, bb.keys())
    return LargeMaps(
        family=group_part(groups.by_family(g, pairs)),
        zone=group_part(zones) if zones is not None else None,
        backbone=bb,
        backbone_map=bb_map,
        egos=list(zip(centres, egos, strict=True)),
    )
