//! Colours of the pictures: the sequential colour maps of the fields (m^k ≥ 0 on viridis, u^k on
//! magma, both perceptually uniform; signed quantities on a diverging map), quantised to a fixed
//! table of [`LEVELS`] entries, the grey ramp of text and frames, and the population palette of
//! the line charts.
//!
//! Heatmaps only ever use the table's entries, so an indexed GIF whose palette is the table plus
//! the greys ([`gif_palette`]) reproduces a PNG's colours exactly, where a quantiser fitted to
//! each frame would shift them.

use plotters::style::RGBColor;
use std::sync::OnceLock;

/// Entries of each colour map's table.
pub const LEVELS: usize = 216;

/// Entries of the grey ramp (black to white) that completes a GIF palette to 256 colours.
pub const GREYS: usize = 256 - LEVELS;

/// A sequential colour map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourMap {
    /// Perceptually uniform, dark to yellow (densities).
    Viridis,
    /// Perceptually uniform, black to white through magenta (value functions).
    Magma,
    /// Diverging, red through white to blue (signed quantities on a scale symmetric about 0:
    /// velocities and differences).
    Diverging,
}

impl ColourMap {
    /// The table of the map: entry 0 is the low end, entry `LEVELS - 1` the high end.
    pub fn table(self) -> &'static [RGBColor; LEVELS] {
        static VIRIDIS: OnceLock<[RGBColor; LEVELS]> = OnceLock::new();
        static MAGMA: OnceLock<[RGBColor; LEVELS]> = OnceLock::new();
        static DIVERGING: OnceLock<[RGBColor; LEVELS]> = OnceLock::new();
        let (cell, gradient) = match self {
            ColourMap::Viridis => (&VIRIDIS, colorous::VIRIDIS),
            ColourMap::Magma => (&MAGMA, colorous::MAGMA),
            ColourMap::Diverging => (&DIVERGING, colorous::RED_BLUE),
        };
        cell.get_or_init(|| {
            std::array::from_fn(|i| {
                let c = gradient.eval_continuous(i as f64 / (LEVELS - 1) as f64);
                RGBColor(c.r, c.g, c.b)
            })
        })
    }
}

/// A colour scale: values lo..=hi onto a colour map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Value at the bottom of the scale.
    pub lo: f64,
    /// Value at the top of the scale.
    pub hi: f64,
    /// The colour map.
    pub map: ColourMap,
}

impl Scale {
    /// A scale from `lo` to `hi` in `map`.
    pub fn new(lo: f64, hi: f64, map: ColourMap) -> Self {
        Scale { lo, hi, map }
    }

    /// Table index of v: lo gives 0, hi gives `LEVELS - 1` (values outside are clamped).
    pub fn index(&self, v: f64) -> usize {
        let s = if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        };
        let s = if s.is_nan() { 0.0 } else { s.clamp(0.0, 1.0) };
        (s * (LEVELS - 1) as f64).round() as usize
    }

    /// Colour of v.
    pub fn colour(&self, v: f64) -> RGBColor {
        self.map.table()[self.index(v)]
    }
}

/// Grey i of the ramp (0 black, `GREYS - 1` white).
fn grey(i: usize) -> [u8; 3] {
    let g = (i as f64 * 255.0 / (GREYS - 1) as f64).round() as u8;
    [g, g, g]
}

/// The colour of removed nodes (obstacles, nodes outside a population's region): a light grey
/// of the GIF palette's ramp, so that animations keep it exactly.
pub fn removed() -> RGBColor {
    let [r, g, b] = grey(GREYS * 4 / 5);
    RGBColor(r, g, b)
}

/// The colour of exit nodes: black, the darkest grey of the GIF palette's ramp.
pub fn exit() -> RGBColor {
    let [r, g, b] = grey(0);
    RGBColor(r, g, b)
}

/// The 256-colour GIF palette of pictures drawn with `map`: its table, then the greys.
pub fn gif_palette(map: ColourMap) -> Vec<[u8; 3]> {
    let mut p: Vec<[u8; 3]> = map.table().iter().map(|c| [c.0, c.1, c.2]).collect();
    p.extend((0..GREYS).map(grey));
    p
}

/// Maps RGB pixels to the index of the nearest palette entry: exact for the palette's colours
/// (the heatmaps), nearest for the rest (anti-aliased text and lines).
pub struct Indexer {
    palette: Vec<[u8; 3]>,
    cache: std::collections::HashMap<[u8; 3], u8>,
}

impl Indexer {
    /// A palette builder starting from `palette`.
    pub fn new(palette: Vec<[u8; 3]>) -> Self {
        assert!(
            palette.len() <= 256,
            "a GIF palette has at most 256 colours"
        );
        let mut cache = std::collections::HashMap::new();
        // Later duplicates must not shadow the first entry of a colour.
        for (i, c) in palette.iter().enumerate().rev() {
            cache.insert(*c, i as u8);
        }
        Indexer { palette, cache }
    }

    /// The palette index of colour `c` (the nearest entry once the palette is full).
    pub fn index(&mut self, c: [u8; 3]) -> u8 {
        if let Some(&i) = self.cache.get(&c) {
            return i;
        }
        let d = |p: &[u8; 3]| -> i32 {
            (0..3)
                .map(|a| (i32::from(p[a]) - i32::from(c[a])).pow(2))
                .sum()
        };
        let (i, _) = self
            .palette
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| d(p))
            .expect("the palette is not empty");
        self.cache.insert(c, i as u8);
        i as u8
    }
}

/// Distinct colours for populations (the "tab10" palette).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of population k.
pub fn colour(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

/// `c` mixed with white: w = 1 keeps the colour, w = 0 gives white.
pub fn lighten(c: RGBColor, w: f64) -> RGBColor {
    let m = |v: u8| (255.0 - (255.0 - f64::from(v)) * w).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_ends_are_the_table_ends() {
        let s = Scale::new(-1.0, 3.0, ColourMap::Viridis);
        assert_eq!(s.index(-1.0), 0);
        assert_eq!(s.index(3.0), LEVELS - 1);
        assert_eq!(s.index(1.0), (LEVELS - 1) / 2 + 1);
        assert_eq!(s.index(f64::NAN), 0);
        // Viridis runs from dark purple to yellow.
        let (lo, hi) = (s.colour(-1.0), s.colour(3.0));
        assert!(
            lo.2 > lo.1 && hi.0 > 200 && hi.1 > 200 && hi.2 < 60,
            "{lo:?} {hi:?}"
        );
    }

    #[test]
    fn gif_palette_is_exact_on_the_table() {
        let p = gif_palette(ColourMap::Viridis);
        assert_eq!(p.len(), 256);
        let mut ix = Indexer::new(p.clone());
        for (i, c) in ColourMap::Viridis.table().iter().enumerate() {
            assert_eq!(p[ix.index([c.0, c.1, c.2]) as usize], p[i]);
        }
        assert_eq!(p[ix.index([0, 0, 0]) as usize], [0, 0, 0]);
        assert_eq!(p[ix.index([255, 255, 255]) as usize], [255, 255, 255]);
        // An anti-aliased grey lands within half a step of the ramp.
        let g = p[ix.index([100, 100, 100]) as usize];
        assert!((i32::from(g[0]) - 100).abs() <= 4, "{g:?}");
    }
}
