//! Charts for the HTML report as inline SVG, drawn here (no JavaScript, nothing to load):
//! line charts over time and horizontal bar charts, each with a title, labelled axes
//! and a legend. Every text that reaches the SVG is XML-escaped.

use std::fmt::Write as _;

/// Line colours, in legend order.
pub const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 56.0;
const BOTTOM: f64 = 46.0;

/// How a value is written on an axis or a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Number,
    Ms,
    Percent,
}

impl Format {
    pub fn text(self, v: f64) -> String {
        match self {
            Format::Number => short(v),
            Format::Ms => format!("{} ms", short(v)),
            Format::Percent => format!("{} %", short(v * 100.0)),
        }
    }
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        let text = format!("{v:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One line: (x = seconds since the start, y or a gap).
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(f64, Option<f64>)>,
}

/// XML text escaping for element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The smallest "nice" number (1, 2, 2.5, 5 × 10^k) at or above `x`.
pub fn nice_ceiling(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|v| *v >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * base)
}

/// Tick positions (seconds) at a round step, at most about 8 of them.
fn time_ticks(from: f64, to: f64) -> Vec<f64> {
    const STEPS: [f64; 14] = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    ];
    let span = (to - from).max(1.0);
    let step = STEPS
        .into_iter()
        .find(|s| span / s <= 8.0)
        .unwrap_or_else(|| (span / 8.0 / 3600.0).ceil() * 3600.0);
    let mut ticks = Vec::new();
    let mut t = (from / step).ceil() * step;
    while t <= to + 1e-9 {
        ticks.push(t);
        t += step;
    }
    ticks
}

/// `m:ss` or `h:mm:ss` for an axis label.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn open(out: &mut String, id: &str, title: &str, height: f64) {
    let _ = write!(
        out,
        r##"<svg class="chart" data-chart="{id}" role="img" aria-label="{t}" viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/><text x="{LEFT}" y="20" class="chart-title" font-size="15" font-weight="bold" fill="#222">{t}</text>"##,
        id = esc(id),
        t = esc(title),
    );
}

fn legend(out: &mut String, names: &[(&str, &str)]) {
    let mut x = LEFT;
    for (name, color) in names {
        let label = esc(&truncate(name, 28));
        let _ = write!(
            out,
            r##"<g class="legend"><rect x="{x}" y="30" width="14" height="4" fill="{color}"/><text x="{}" y="36" font-size="12" fill="#333">{label}</text></g>"##,
            x + 18.0
        );
        x += 28.0 + 7.0 * label.chars().count().min(28) as f64;
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// A line chart over time. `y_max` fixes the top of the axis (e.g. 1.0 for ratios).
pub fn line_chart(
    id: &str,
    title: &str,
    y_label: &str,
    series: &[Series],
    format: Format,
    y_max: Option<f64>,
) -> String {
    let mut out = String::new();
    open(&mut out, id, title, HEIGHT);
    let names: Vec<(&str, &str)> = series.iter().map(|s| (s.name.as_str(), s.color)).collect();
    legend(&mut out, &names);
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (x_min, x_max) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let (x_min, x_max) = if x_min.is_finite() && x_max > x_min {
        (x_min, x_max)
    } else {
        (0.0, x_min.max(0.0) + 1.0)
    };
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let y_top = y_max.unwrap_or_else(|| nice_ceiling(top));
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x - x_min) / (x_max - x_min) * plot_w;
    let py = |y: f64| TOP + plot_h - (y.clamp(0.0, y_top) / y_top) * plot_h;
    axes(&mut out, plot_w, plot_h);
    for i in 0..=5 {
        let v = y_top * f64::from(i) / 5.0;
        let y = py(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#555">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            esc(&format.text(v))
        );
    }
    for v in time_ticks(x_min, x_max) {
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#555">{}</text>"##,
            px(v),
            TOP + plot_h + 16.0,
            clock(v)
        );
    }
    axis_labels(&mut out, "time since start (m:ss)", y_label, plot_w, plot_h);
    let has_data = series
        .iter()
        .any(|s| s.points.iter().any(|p| p.1.is_some()));
    if !has_data {
        no_data(&mut out, plot_w, plot_h);
    }
    for s in series {
        for segment in s
            .points
            .split(|p| p.1.is_none())
            .filter(|seg| !seg.is_empty())
        {
            let coords: Vec<String> = segment
                .iter()
                .filter_map(|(x, y)| y.map(|y| format!("{:.1},{:.1}", px(*x), py(y))))
                .collect();
            if coords.len() == 1 {
                let (x, y) = coords[0].split_once(',').unwrap_or(("0", "0"));
                let _ = write!(
                    out,
                    r##"<circle cx="{x}" cy="{y}" r="2.5" fill="{}"/>"##,
                    s.color
                );
            } else {
                let _ = write!(
                    out,
                    r##"<polyline class="series" points="{}" fill="none" stroke="{}" stroke-width="2"/>"##,
                    coords.join(" "),
                    s.color
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

fn axes(out: &mut String, plot_w: f64, plot_h: f64) {
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{b:.1}" stroke="#333"/><line x1="{LEFT}" y1="{b:.1}" x2="{r:.1}" y2="{b:.1}" stroke="#333"/>"##,
        b = TOP + plot_h,
        r = LEFT + plot_w
    );
}

fn axis_labels(out: &mut String, x_label: &str, y_label: &str, plot_w: f64, plot_h: f64) {
    let _ = write!(
        out,
        r##"<text class="x-label" x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#333">{}</text><text class="y-label" x="14" y="{:.1}" font-size="12" text-anchor="middle" fill="#333" transform="rotate(-90 14 {:.1})">{}</text>"##,
        LEFT + plot_w / 2.0,
        TOP + plot_h + 36.0,
        esc(x_label),
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        esc(y_label)
    );
}

fn no_data(out: &mut String, plot_w: f64, plot_h: f64) {
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle" fill="#888">no data for this chart in this run</text>"##,
        LEFT + plot_w / 2.0,
        TOP + plot_h / 2.0
    );
}

/// A horizontal bar chart; `reference` draws a dashed marker (e.g. the even share).
pub fn bar_chart(
    id: &str,
    title: &str,
    x_label: &str,
    bars: &[(String, f64)],
    format: Format,
    reference: Option<(f64, &str)>,
) -> String {
    let label_w = 190.0;
    let row = 30.0;
    let height = TOP + BOTTOM + row * bars.len().max(1) as f64;
    let mut out = String::new();
    open(&mut out, id, title, height);
    let plot_w = WIDTH - label_w - RIGHT - 60.0;
    let top = bars
        .iter()
        .map(|b| b.1)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let top = nice_ceiling(top.max(reference.map_or(0.0, |r| r.0)));
    let px = |v: f64| label_w + v.clamp(0.0, top) / top * plot_w;
    let bottom = TOP + row * bars.len().max(1) as f64;
    let _ = write!(
        out,
        r##"<line x1="{label_w}" y1="{TOP}" x2="{label_w}" y2="{bottom:.1}" stroke="#333"/><line x1="{label_w}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="#333"/>"##,
        label_w + plot_w
    );
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#555">{}</text>"##,
            px(v),
            bottom + 16.0,
            esc(&format.text(v))
        );
    }
    let _ = write!(
        out,
        r##"<text class="x-label" x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#333">{}</text>"##,
        label_w + plot_w / 2.0,
        bottom + 36.0,
        esc(x_label)
    );
    if bars.is_empty() {
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle" fill="#888">no data for this chart in this run</text>"##,
            label_w + plot_w / 2.0,
            TOP + row / 2.0 + 4.0
        );
    }
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = TOP + row * i as f64;
        let color = PALETTE[i % PALETTE.len()];
        let _ = write!(
            out,
            r##"<g class="bar"><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#222">{}</text><rect x="{label_w}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#222">{}</text></g>"##,
            label_w - 8.0,
            y + row / 2.0 + 4.0,
            esc(&truncate(label, 26)),
            y + 5.0,
            (px(*value) - label_w).max(0.0),
            row - 10.0,
            px(*value) + 6.0,
            y + row / 2.0 + 4.0,
            esc(&format.text(*value))
        );
    }
    if let Some((value, name)) = reference {
        let x = px(value);
        let _ = write!(
            out,
            r##"<line class="reference" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#000" stroke-dasharray="5,4"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#000">{}</text>"##,
            TOP - 4.0,
            TOP - 8.0,
            esc(name)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_numbers_and_clock() {
        assert_eq!(nice_ceiling(7.3), 10.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(230.0), 250.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(clock(65.0), "1:05");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(
            time_ticks(0.4, 8.2),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
        );
        assert_eq!(time_ticks(0.0, 300.0).len(), 6);
    }

    #[test]
    fn text_is_escaped_and_gaps_split_lines() {
        let chart = line_chart(
            "x",
            "t <b>",
            "y",
            &[Series {
                name: "<script>alert(1)</script>".into(),
                color: PALETTE[0],
                points: vec![
                    (0.0, Some(1.0)),
                    (1.0, Some(2.0)),
                    (2.0, None),
                    (3.0, Some(1.0)),
                ],
            }],
            Format::Number,
            None,
        );
        assert!(!chart.contains("<script>"), "{chart}");
        assert!(chart.contains("&lt;script&gt;"));
        assert!(chart.contains("t &lt;b&gt;"));
        assert_eq!(chart.matches("<polyline").count(), 1);
        assert_eq!(chart.matches("<circle").count(), 1);
        let bars = bar_chart(
            "b",
            "B",
            "share",
            &[("a\"b".into(), 0.5)],
            Format::Percent,
            Some((0.33, "even")),
        );
        assert!(bars.contains("a&quot;b") && bars.contains("50 %") && bars.contains("reference"));
    }
}
