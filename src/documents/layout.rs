//! Page layout for printable documents: paper sizes, the embedded fonts, text measured
//! from the font's own advance widths, and a display list of pages that is laid out first
//! and drawn second, so every page can say "page 3 of 7".
//!
//! The fonts are DejaVu Sans (regular and bold) compiled into the binary by the `dejavu`
//! crate: no system font lookup at run time, and Latin, Greek and Cyrillic names print as
//! themselves. krilla embeds only the glyphs a document uses.

use std::sync::OnceLock;

use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

pub(crate) use crate::domain::paper::Paper;

/// Width and height of `paper` in PDF points (1/72 in).
fn paper_size(paper: Paper) -> (f32, f32) {
    match paper {
        Paper::A4 => (595.28, 841.89),
        Paper::Letter => (612.0, 792.0),
    }
}

/// A face of the embedded font family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
}

impl Face {
    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Regular => dejavu::sans::regular(),
            Face::Bold => dejavu::sans::bold(),
        }
    }

    /// The face as krilla draws it, loaded once per process.
    fn font(self) -> Option<Font> {
        static REGULAR: OnceLock<Option<Font>> = OnceLock::new();
        static BOLD: OnceLock<Option<Font>> = OnceLock::new();
        let cell = match self {
            Face::Regular => &REGULAR,
            Face::Bold => &BOLD,
        };
        cell.get_or_init(|| Font::new(self.bytes().into(), 0))
            .clone()
    }

    /// How wide `text` is at `size` points: the sum of its glyphs' advances.
    pub(crate) fn width(self, text: &str, size: f32) -> f32 {
        let Ok(font) = FontRef::new(self.bytes()) else {
            return 0.0;
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .map(|c| {
                let glyph = charmap.map(c).unwrap_or_default();
                metrics.advance_width(glyph).unwrap_or(0.0)
            })
            .sum()
    }
}

/// Something drawn on a page.
#[derive(Debug, Clone)]
enum Mark {
    Text {
        at: (f32, f32),
        size: f32,
        face: Face,
        text: String,
        /// `Auto`: the text's first strong character decides; a line wrapped out of a
        /// left-to-right paragraph says so, lest it start with a Hebrew word and flip.
        direction: TextDirection,
    },
    Rule {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
    },
}

/// Where text sits against its x position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// Pages being laid out top to bottom. `y` is the baseline of the next line, measured down
/// from the top edge; a line that would cross the bottom margin starts a new page, which
/// first repeats the running header (a table's column titles) when one is set.
pub(crate) struct Layout {
    paper: Paper,
    pages: Vec<Vec<Mark>>,
    pub(crate) y: f32,
    running_header: Option<fn(&mut Layout)>,
}

pub(crate) const MARGIN: f32 = 50.0;
/// The body text of every document, its bold, and the distance between their baselines.
pub(crate) const BODY: (f32, Face) = (9.0, Face::Regular);
pub(crate) const BOLD: (f32, Face) = (9.0, Face::Bold);
pub(crate) const LINE: f32 = 12.0;
const FOOTER_SPACE: f32 = 40.0;

impl Layout {
    pub(crate) fn new(paper: Paper) -> Self {
        Layout {
            paper,
            pages: vec![Vec::new()],
            y: MARGIN,
            running_header: None,
        }
    }

    /// The right edge of the printable area.
    pub(crate) fn right(&self) -> f32 {
        paper_size(self.paper).0 - MARGIN
    }

    fn bottom(&self) -> f32 {
        paper_size(self.paper).1 - MARGIN - FOOTER_SPACE
    }

    /// Repeats `header` at the top of every page started from now on (`None` stops it).
    pub(crate) fn repeat_on_new_pages(&mut self, header: Option<fn(&mut Layout)>) {
        self.running_header = header;
    }

    /// Makes room for `height` points below the current line, starting a page if needed.
    pub(crate) fn room_for(&mut self, height: f32) {
        if self.y + height <= self.bottom() {
            return;
        }
        self.pages.push(Vec::new());
        self.y = MARGIN;
        if let Some(header) = self.running_header {
            header(self);
        }
    }

    fn mark(&mut self, mark: Mark) {
        if let Some(page) = self.pages.last_mut() {
            page.push(mark);
        }
    }

    /// Writes `text` on the current line at `x`, aligned against it.
    pub(crate) fn text(&mut self, x: f32, align: Align, font: (f32, Face), text: &str) {
        self.text_directed((x, align), font, text, TextDirection::Auto);
    }

    /// [`Layout::text`] read in `direction` whatever its first letters are: a line wrapped
    /// out of a left-to-right label stays left to right.
    pub(crate) fn text_directed(
        &mut self,
        (x, align): (f32, Align),
        (size, face): (f32, Face),
        text: &str,
        direction: TextDirection,
    ) {
        if text.is_empty() {
            return;
        }
        let left = match align {
            Align::Left => x,
            Align::Right => x - face.width(text, size),
        };
        let y = self.y;
        self.mark(Mark::Text {
            at: (left, y),
            size,
            face,
            text: text.to_owned(),
            direction,
        });
    }

    /// A horizontal rule across the printable area, `gap` points below the current line.
    pub(crate) fn rule(&mut self, gap: f32, width: f32) {
        let (y, right) = (self.y + gap, self.right());
        self.mark(Mark::Rule {
            from: (MARGIN, y),
            to: (right, y),
            width,
        });
    }

    /// Moves down by `height` points, to the next line's baseline.
    pub(crate) fn down(&mut self, height: f32) {
        self.y += height;
    }

    /// Draws the pages, each with `footer` and "Page n of m" at the bottom, as PDF bytes.
    pub(crate) fn finish(self, title: &str, footer: &str) -> Result<Vec<u8>, String> {
        let (width, height) = paper_size(self.paper);
        let settings =
            PageSettings::from_wh(width, height).ok_or_else(|| "bad paper size".to_owned())?;
        let mut document = Document::new();
        document.set_metadata(Metadata::new().title(title.to_owned()));
        let count = self.pages.len();
        for (index, marks) in self.pages.into_iter().enumerate() {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            let footer_y = height - MARGIN;
            let numbering = format!("Page {} of {count}", index + 1);
            let small = 8.0;
            let footer_marks = [
                text_mark((MARGIN, footer_y), small, footer),
                text_mark(
                    (
                        width - MARGIN - Face::Regular.width(&numbering, small),
                        footer_y,
                    ),
                    small,
                    &numbering,
                ),
            ];
            for mark in marks.iter().chain(footer_marks.iter()) {
                draw(&mut surface, mark)?;
            }
            surface.finish();
            page.finish();
        }
        document.finish().map_err(|e| format!("{e:?}"))
    }
}

fn text_mark(at: (f32, f32), size: f32, text: &str) -> Mark {
    Mark::Text {
        at,
        size,
        face: Face::Regular,
        text: text.to_owned(),
        direction: TextDirection::Auto,
    }
}

fn draw(surface: &mut krilla::surface::Surface<'_>, mark: &Mark) -> Result<(), String> {
    match mark {
        Mark::Text {
            at,
            size,
            face,
            text,
            direction,
        } => {
            let font = face.font().ok_or_else(|| "the embedded font".to_owned())?;
            let start = Point::from_xy(at.0, at.1);
            surface.draw_text(start, font, *size, text, false, *direction);
        }
        Mark::Rule { from, to, width } => {
            let mut path = PathBuilder::new();
            path.move_to(from.0, from.1);
            path.line_to(to.0, to.1);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    width: *width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
    Ok(())
}

/// Splits `text` into lines no wider than `width` at `size` points: at spaces where it can,
/// inside a word only when the word alone is too wide. Line breaks in `text` are kept.
pub(crate) fn wrap(text: &str, (size, face): (f32, Face), width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if face.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if face.width(&line, size) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        lines.push(line);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_respects_the_width() {
        let text =
            "Consulting services for the quarterly Überprüfung of Ελληνικά and Кириллица accounts";
        let lines = wrap(text, (9.0, Face::Regular), 120.0);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(Face::Regular.width(line, 9.0) <= 120.0, "{line}");
        }
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn a_word_wider_than_the_column_is_split() {
        let lines = wrap(&"W".repeat(40), (10.0, Face::Bold), 60.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), "W".repeat(40));
    }

    #[test]
    fn bold_is_wider_than_regular_and_greek_has_glyphs() {
        let (regular, bold) = (
            Face::Regular.width("Total", 10.0),
            Face::Bold.width("Total", 10.0),
        );
        assert!(regular > 15.0 && bold > regular, "{regular} {bold}");
        let font = FontRef::new(Face::Regular.bytes()).unwrap();
        for c in "ÀéßŁΩμέγαЖщЁ€".chars() {
            assert!(font.charmap().map(c).is_some(), "no glyph for {c}");
        }
    }
}
