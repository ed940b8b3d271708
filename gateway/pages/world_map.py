"""The directory's offline world map: Natural Earth's country outlines (npm `world-atlas`) drawn as one SVG file.

    python -m gateway.pages.world_map [node_modules/world-atlas]   # the install step runs it

writes gateway/static/map/world.svg and the data's licence beside it. The page draws its markers over the map
in the same equirectangular projection (`project`), so no script and no tile server are needed.
"""

import json
import shutil
import sys
from pathlib import Path

MAP_WIDTH, MAP_HEIGHT = 1000, 500
STATIC_MAP_FOLDER = Path(__file__).resolve().parent.parent / "static" / "map"
DEFAULT_SOURCE = Path("node_modules") / "world-atlas"
LAND, BORDER, SEA = "#f4f1e8", "#7a8a80", "#dbe9f4"


def project(lat: float, lon: float) -> tuple[float, float]:
    """Degrees to the map's x, y (equirectangular: longitude and latitude as straight lines)."""
    return round((lon + 180) / 360 * MAP_WIDTH, 1), round((90 - lat) / 180 * MAP_HEIGHT, 1)


def decoded_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON's delta-encoded, quantized arcs as lists of (lon, lat)."""
    (scale_x, scale_y), (move_x, move_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + move_x, y * scale_y + move_y))
        arcs.append(points)
    return arcs


def ring_path(ring: list[int], arcs: list[list[tuple[float, float]]]) -> str:
    points: list[tuple[float, float]] = []
    for index in ring:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    d, previous_x = "", None
    for lon, lat in points:
        x, y = project(lat, lon)
        # A ring that crosses the 180° meridian is drawn in pieces rather than with a line across the world.
        command = "M" if previous_x is None or abs(x - previous_x) > MAP_WIDTH / 2 else "L"
        d += f"{command}{x:g} {y:g}"
        previous_x = x
    return d + "Z"


def country_paths(topology: dict) -> list[str]:
    arcs = decoded_arcs(topology)
    paths = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = {"Polygon": [geometry.get("arcs", [])], "MultiPolygon": geometry.get("arcs", [])}.get(
            geometry["type"], []
        )
        d = "".join(ring_path(ring, arcs) for polygon in polygons for ring in polygon)
        if d:
            paths.append(d)
    return paths


def world_svg(topology: dict) -> str:
    body = "".join(f'<path d="{d}"/>' for d in country_paths(topology))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}">'
        f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="{SEA}"/>'
        f'<g fill="{LAND}" stroke="{BORDER}" stroke-width="0.5" stroke-linejoin="round">{body}</g></svg>'
    )


def build(source: Path) -> Path:
    topology = json.loads((source / "countries-110m.json").read_text())
    STATIC_MAP_FOLDER.mkdir(parents=True, exist_ok=True)
    target = STATIC_MAP_FOLDER / "world.svg"
    target.write_text(world_svg(topology))
    shutil.copyfile(source / "LICENSE", STATIC_MAP_FOLDER / "LICENSE-world-atlas.txt")
    return target


if __name__ == "__main__":
    built = build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
    print(f"wrote {built} ({built.stat().st_size // 1024} KiB)")
