//! The leaderboard chart of a contest: a PNG drawn with `plotters` — the contest's name, the
//! time left, and one bar per place with the partner's name and value.
//!
//! Partner names are often Chinese, so the text is drawn with a font that has CJK glyphs: the
//! first system font (found through `fontdb`, which reads the fontconfig directories) that has
//! both Latin and CJK letters, else a subset of LXGW WenKai (SIL OFL 1.1, GB 2312 level 1, see
//! `assets/fonts/OFL.txt`) built into the binary, so a bare machine draws 王氏电子 too.

use std::sync::OnceLock;

use chrono::NaiveDate;
use plotters::prelude::*;
use plotters::style::{FontFamily, FontStyle, register_font};

use crate::app::App;
use crate::chat::reply::Msg;
use crate::engine::contest::{Contest, Shown};
use crate::features::contests::service;
use crate::store::contest_boards::ContestBoard;

/// The bundled fallback font (SIL OFL 1.1).
pub const BUNDLED_FONT: &[u8] = include_bytes!("../../../assets/fonts/RallyChartCJK-Regular.ttf");
/// The family name the chart's font is registered under with plotters.
const FAMILY: &str = "rally-chart";
/// Image width in pixels; the height follows from the number of bars.
pub const WIDTH: u32 = 800;
const HEADER: u32 = 96;
const ROW: u32 = 44;
const FOOTER: u32 = 16;

/// Letters a usable font must have.
const PROBE: &[char] = &['A', 'z', '7', '王', '电', '贸'];

/// Where the chart's font came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FontSource {
    /// A system font file (its path).
    System(String),
    Bundled,
}

/// The font in use, registered once per process.
pub fn font() -> &'static Result<FontSource, String> {
    static FONT: OnceLock<Result<FontSource, String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let (bytes, source): (&'static [u8], FontSource) = match system_font() {
            Some((bytes, path)) => (bytes, FontSource::System(path)),
            None => (BUNDLED_FONT, FontSource::Bundled),
        };
        register_font(FAMILY, FontStyle::Normal, bytes)
            .map_err(|_| "the chart font could not be read".to_string())?;
        tracing::info!(font = ?source, "contest chart font");
        Ok(source)
    })
}

/// Whether font data (face 0, which is what the renderer reads) has every [`PROBE`] letter.
pub fn has_cjk_and_latin(data: &[u8]) -> bool {
    ttf_parser::Face::parse(data, 0)
        .map(|face| PROBE.iter().all(|c| face.glyph_index(*c).is_some()))
        .unwrap_or(false)
}

/// The first system font with Latin and CJK glyphs, preferring sans-serif families; its bytes
/// are kept for the life of the process (the renderer needs them `'static`).
fn system_font() -> Option<(&'static [u8], String)> {
    let mut db = fontdb::Database::new();
    db.load_system_fonts();
    let mut candidates: Vec<(u8, std::path::PathBuf)> = db
        .faces()
        .filter_map(|face| {
            let fontdb::Source::File(path) = &face.source else {
                return None;
            };
            let family = face
                .families
                .first()
                .map(|(name, _)| name.to_lowercase())
                .unwrap_or_default();
            let preference = if family.contains("sans") || family.contains("hei") {
                0
            } else {
                1
            };
            (face.index == 0 && face.style == fontdb::Style::Normal)
                .then(|| (preference, path.clone()))
        })
        .collect();
    candidates.sort();
    candidates.dedup();
    for (_, path) in candidates {
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        if has_cjk_and_latin(&data) {
            return Some((Vec::leak(data), path.display().to_string()));
        }
    }
    None
}

/// One bar: the partner's name, the value shown, and the bar's length (0.0 – 1.0).
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub place: u64,
    pub name: String,
    pub value: String,
    pub length: f64,
}

/// The chart's content, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    pub subtitle: String,
    pub bars: Vec<Bar>,
}

/// The number a bar's length is proportional to, per kind of value.
fn magnitude(shown: Shown) -> (u8, f64) {
    // Lengths compare values of one kind only; a board mixing kinds (growth with and without a
    // base) scales each kind on its own.
    let as_f = |v: i64| v.max(0) as f64;
    match shown {
        Shown::Money(m) | Shown::NoBase(m) | Shown::NoTarget(m) => {
            (u8::from(!matches!(shown, Shown::Money(_))), as_f(m))
        }
        Shown::Count(n) | Shown::Customers(n) => (2, as_f(n)),
        Shown::Growth(ppm) => (3, as_f(ppm + 1_000_000)),
        Shown::Attainment(ppm) => (4, as_f(ppm)),
    }
}

/// The chart of a board, its words in the program's default language.
pub fn chart_of(app: &App, contest: &Contest, board: &ContestBoard, today: NaiveDate) -> Chart {
    let locale = app.config.program.default_locale;
    let rule = service::rule(app, contest);
    let chinese = locale == crate::config::Locale::ZhCn;
    let shown: Vec<(u64, String, Shown)> = board
        .top
        .iter()
        .map(|(place, _, name, facts)| (*place, name.clone(), rule.shown(facts)))
        .collect();
    let bars = shown
        .iter()
        .map(|(place, name, value)| {
            let (kind, size) = magnitude(*value);
            let max = shown
                .iter()
                .map(|(_, _, v)| magnitude(*v))
                .filter(|(k, _)| *k == kind)
                .map(|(_, s)| s)
                .fold(0.0, f64::max);
            Bar {
                place: *place,
                name: name.clone(),
                value: service::shown(app, *value).1,
                length: if max > 0.0 { size / max } else { 0.0 },
            }
        })
        .collect();
    let subtitle = app.i18n.render(
        locale,
        &Msg::new("contest-chart-subtitle")
            .int("days", service::days_left(contest, today).max(0))
            .int("partners", board.participants as i64),
    );
    Chart {
        title: contest.display_name(chinese).to_string(),
        subtitle,
        bars,
    }
}

/// Draws a board as PNG.
pub fn render(
    app: &App,
    contest: &Contest,
    board: &ContestBoard,
    today: NaiveDate,
) -> Result<Vec<u8>, String> {
    draw(&chart_of(app, contest, board, today))
}

/// The image height for `bars` bars.
pub fn height(bars: usize) -> u32 {
    HEADER + ROW * (bars.max(1) as u32) + FOOTER
}

const MEDALS: [RGBColor; 3] = [
    RGBColor(212, 160, 23),
    RGBColor(160, 166, 176),
    RGBColor(176, 112, 64),
];
const BAR: RGBColor = RGBColor(66, 133, 214);
const INK: RGBColor = RGBColor(32, 33, 36);
const MUTED: RGBColor = RGBColor(95, 99, 104);

/// Draws a chart as PNG.
pub fn draw(chart: &Chart) -> Result<Vec<u8>, String> {
    font().as_ref().map_err(Clone::clone)?;
    let (width, height) = (WIDTH, height(chart.bars.len()));
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let err = |e: DrawingAreaErrorKind<_>| e.to_string();
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let text = |size: f64, color: RGBColor| {
            FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal).color(&color)
        };
        root.draw(&Text::new(chart.title.clone(), (24, 16), text(30.0, INK)))
            .map_err(err)?;
        root.draw(&Text::new(
            chart.subtitle.clone(),
            (24, 56),
            text(18.0, MUTED),
        ))
        .map_err(err)?;
        let (name_x, bar_x, bar_end) = (24, 260, width as i32 - 170);
        for (i, bar) in chart.bars.iter().enumerate() {
            let top = (HEADER + ROW * i as u32) as i32;
            let color = MEDALS.get(i).copied().unwrap_or(BAR);
            let label = format!("{}. {}", bar.place, bar.name);
            root.draw(&Text::new(label, (name_x, top + 10), text(20.0, INK)))
                .map_err(err)?;
            let length = ((bar_end - bar_x) as f64 * bar.length.clamp(0.0, 1.0)) as i32;
            root.draw(&Rectangle::new(
                [
                    (bar_x, top + 6),
                    (bar_x + length.max(3), top + ROW as i32 - 8),
                ],
                color.filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(
                bar.value.clone(),
                (bar_x + length.max(3) + 10, top + 10),
                text(18.0, INK),
            ))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    encode_png(&rgb, width, height)
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// `text` drawn alone in black on white at `size`, as a grey-level mask (tests compare a CJK
/// name with a glyph the font lacks, to tell letters from empty boxes).
pub fn text_mask(text: &str, size: f64) -> Result<(u32, u32, Vec<u8>), String> {
    font().as_ref().map_err(Clone::clone)?;
    let (width, height) = (
        (size * 1.5) as u32 * (text.chars().count() as u32 + 1),
        (size * 2.0) as u32,
    );
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    {
        let err = |e: DrawingAreaErrorKind<_>| e.to_string();
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        let style = FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal).color(&BLACK);
        root.draw(&Text::new(text.to_string(), (4, 4), style))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok((width, height, rgb.chunks(3).map(|p| p[0]).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_font_has_latin_and_cjk() {
        assert!(has_cjk_and_latin(BUNDLED_FONT));
        let face = ttf_parser::Face::parse(BUNDLED_FONT, 0).expect("font parses");
        for c in "王氏电子李记商贸张家批发陈氏分销刘氏科技赵记零售¥%".chars()
        {
            assert!(face.glyph_index(c).is_some(), "{c} missing");
        }
    }
}
