//! The RGB buffer every picture is drawn into, and its encoders: PNG, and GIF with a fixed
//! palette.
//!
//! Heatmaps are written straight into the buffer (a colour-table entry per pixel, far cheaper
//! than one plotters call per pixel); frames, text, lines and arrows are then drawn over them
//! with plotters on the same buffer.

use super::colours::Indexer;
use super::{draw_err, Error, Rect, Result};
use crate::files::AtomicFile;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// The drawing area over a canvas.
pub(super) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// The errors of drawing on an [`Area`].
pub(super) type AreaError =
    DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// A white RGB picture.
pub(super) struct Canvas {
    pub size: (u32, u32),
    rgb: Vec<u8>,
}

impl Canvas {
    pub fn new(size: (u32, u32)) -> Self {
        Canvas {
            size,
            rgb: vec![255; size.0 as usize * size.1 as usize * 3],
        }
    }

    /// Sets every pixel of `rect` (clipped to the canvas) to `f(i, j)`, with (i, j) the column
    /// and row inside the rectangle.
    pub fn fill(&mut self, rect: Rect, mut f: impl FnMut(u32, u32) -> RGBColor) {
        let (w, h) = (self.size.0 as i32, self.size.1 as i32);
        for j in 0..rect.h {
            let y = rect.y + j as i32;
            if !(0..h).contains(&y) {
                continue;
            }
            for i in 0..rect.w {
                let x = rect.x + i as i32;
                if !(0..w).contains(&x) {
                    continue;
                }
                let c = f(i, j);
                let o = (y as usize * w as usize + x as usize) * 3;
                self.rgb[o..o + 3].copy_from_slice(&[c.0, c.1, c.2]);
            }
        }
    }

    /// Draws with plotters on the whole canvas; `path` names the picture in errors.
    pub fn draw<T>(
        &mut self,
        path: &Path,
        f: impl FnOnce(&Area<'_>, &dyn Fn(AreaError) -> Error) -> Result<T>,
    ) -> Result<T> {
        let err = draw_err(path);
        let root = BitMapBackend::with_buffer(&mut self.rgb, self.size).into_drawing_area();
        let out = f(&root, &|e: AreaError| err(e))?;
        root.present().map_err(&err)?;
        Ok(out)
    }

    /// The RGB bytes, row-major.
    pub fn pixels(&self) -> &[u8] {
        &self.rgb
    }

    /// Writes the picture as an 8-bit RGB PNG, atomically (`crate::files`): encoded in memory,
    /// then written beside `path`, flushed to disk and renamed, so that a full disk or a crash
    /// never leaves a partial picture under `path`.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        let err = draw_err(path);
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, self.size.0, self.size.1);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(&err)?;
            w.write_image_data(&self.rgb).map_err(&err)?;
            w.finish().map_err(&err)?;
        }
        Ok(crate::files::write_bytes(path, &bytes)?)
    }
}

/// An animated GIF being written: every frame is indexed against one global palette.
pub(super) struct GifWriter<'p> {
    path: &'p Path,
    encoder: gif::Encoder<AtomicFile>,
    indexer: Indexer,
    size: (u32, u32),
    delay_cs: u16,
}

impl<'p> GifWriter<'p> {
    /// A looping GIF of `size` with `delay_ms` between frames and the given palette.
    pub fn create(
        path: &'p Path,
        size: (u32, u32),
        delay_ms: u32,
        palette: Vec<[u8; 3]>,
    ) -> Result<Self> {
        let err = draw_err(path);
        let flat: Vec<u8> = palette.iter().flatten().copied().collect();
        let (w, h) = (to_u16(size.0, path)?, to_u16(size.1, path)?);
        let mut encoder =
            gif::Encoder::new(AtomicFile::create(path)?, w, h, &flat).map_err(&err)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(&err)?;
        Ok(GifWriter {
            path,
            encoder,
            indexer: Indexer::new(palette),
            size,
            delay_cs: (delay_ms / 10).min(u32::from(u16::MAX)) as u16,
        })
    }

    /// Appends a frame (of the GIF's size).
    pub fn push(&mut self, canvas: &Canvas) -> Result<()> {
        debug_assert_eq!(canvas.size, self.size);
        let indices: Vec<u8> = canvas
            .pixels()
            .chunks_exact(3)
            .map(|p| self.indexer.index([p[0], p[1], p[2]]))
            .collect();
        let frame = gif::Frame {
            width: self.size.0 as u16,
            height: self.size.1 as u16,
            delay: self.delay_cs,
            buffer: std::borrow::Cow::Owned(indices),
            ..gif::Frame::default()
        };
        self.encoder
            .write_frame(&frame)
            .map_err(draw_err(self.path))
    }

    /// Ends the GIF (its trailer) and moves it into place; a GIF dropped unfinished leaves no
    /// file.
    pub fn finish(self) -> Result<()> {
        let file = self.encoder.into_inner().map_err(draw_err(self.path))?;
        Ok(file.commit()?)
    }
}

fn to_u16(v: u32, path: &Path) -> Result<u16> {
    u16::try_from(v).map_err(|_| Error::Invalid {
        field: "size".into(),
        reason: format!("{}: {v} pixels exceed the GIF limit", path.display()),
    })
}
