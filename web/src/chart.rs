//! Line charts as inline SVG: a grid with round-number ticks on both axes, axis titles with
//! their units, the latest value in the caption, and a text summary for screen readers.

use leptos::prelude::*;

/// Drawing area, in SVG units (the chart scales to its container).
const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 190.0;
/// Room for the tick labels and axis titles.
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 38.0;

/// Up to about `count` evenly spaced round numbers (1, 2 or 5 times a power of ten, and at
/// least `min_step` apart) covering `[min, max]`. A single value gets the unit above it.
pub fn nice_ticks(min: f64, max: f64, count: usize, min_step: f64) -> Vec<f64> {
    let (min, max) = if (max - min).abs() < f64::EPSILON {
        (min, min + 1.0)
    } else {
        (min.min(max), min.max(max))
    };
    let raw = ((max - min) / count.max(1) as f64).max(min_step);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (min / step).floor() * step;
    let last = (max / step).ceil() * step;
    let steps = ((last - first) / step).round() as usize;
    (0..=steps).map(|i| first + i as f64 * step).collect()
}

/// A linear map from data to drawing coordinates.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scale {
    from: (f64, f64),
    to: (f64, f64),
}

impl Scale {
    fn map(self, value: f64) -> f64 {
        let span = self.from.1 - self.from.0;
        let t = if span.abs() < f64::EPSILON {
            0.5
        } else {
            (value - self.from.0) / span
        };
        self.to.0 + t * (self.to.1 - self.to.0)
    }
}

/// One series on its axes, laid out: what the SVG draws.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// `x,y` pairs of the line.
    pub points: String,
    /// The last point, marked.
    pub last: Option<(f64, f64)>,
    /// Tick positions and labels.
    pub x_ticks: Vec<(f64, String)>,
    pub y_ticks: Vec<(f64, String)>,
}

/// Lays out `data` (x, y) with the y axis covering `y_range` when given (accuracy: 0-100%),
/// the data's own range otherwise.
pub fn layout(
    data: &[(f64, f64)],
    y_range: Option<(f64, f64)>,
    x_format: fn(f64) -> String,
    y_format: fn(f64) -> String,
) -> Layout {
    let finite: Vec<(f64, f64)> = data
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let bounds = |values: &mut dyn Iterator<Item = f64>| {
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
    };
    let (x_min, x_max) = match bounds(&mut finite.iter().map(|p| p.0)) {
        (lo, hi) if lo.is_finite() => (lo, hi),
        _ => (0.0, 1.0),
    };
    let (y_min, y_max) = y_range.unwrap_or_else(|| match bounds(&mut finite.iter().map(|p| p.1)) {
        (lo, hi) if lo.is_finite() => (lo.min(0.0), hi),
        _ => (0.0, 1.0),
    });
    // Steps, epochs and rounds: whole numbers on the x axis.
    let x_values = nice_ticks(x_min, x_max, 5, 1.0);
    let y_values = nice_ticks(y_min, y_max, 4, 0.0);
    let x = Scale {
        from: (x_values[0], *x_values.last().expect("ticks")),
        to: (LEFT, WIDTH - RIGHT),
    };
    let y = Scale {
        from: (y_values[0], *y_values.last().expect("ticks")),
        to: (HEIGHT - BOTTOM, TOP),
    };
    let plotted: Vec<(f64, f64)> = finite.iter().map(|(a, b)| (x.map(*a), y.map(*b))).collect();
    Layout {
        points: plotted
            .iter()
            .map(|(a, b)| format!("{a:.1},{b:.1}"))
            .collect::<Vec<_>>()
            .join(" "),
        last: plotted.last().copied(),
        x_ticks: x_values.iter().map(|v| (x.map(*v), x_format(*v))).collect(),
        y_ticks: y_values.iter().map(|v| (y.map(*v), y_format(*v))).collect(),
    }
}

/// A line chart of `data` with its title, axis titles (units included) and latest value.
#[component]
pub fn LineChart(
    /// The figure's id.
    id: &'static str,
    /// What is plotted, e.g. "Training loss".
    title: &'static str,
    /// The x axis's title with its unit.
    x_title: &'static str,
    /// The y axis's title with its unit.
    y_title: &'static str,
    /// The series' colour class (`series-loss`, `series-accuracy`, `series-model`).
    class: &'static str,
    data: Vec<(f64, f64)>,
    #[prop(optional)] y_range: Option<(f64, f64)>,
    x_format: fn(f64) -> String,
    y_format: fn(f64) -> String,
) -> impl IntoView {
    let laid = layout(&data, y_range, x_format, y_format);
    let latest = data
        .last()
        .map(|(_, v)| y_format(*v))
        .unwrap_or_else(|| "-".into());
    let summary = match (data.first(), data.last()) {
        (Some((_, first)), Some((_, last))) => format!(
            "{title}: {} points, from {} to {}",
            data.len(),
            y_format(*first),
            y_format(*last)
        ),
        _ => format!("{title}: no data yet"),
    };
    let bottom = HEIGHT - BOTTOM;
    let right = WIDTH - RIGHT;
    view! {
        <figure class="chart" id=id>
            <figcaption>{title}": " <span class="value">{latest}</span></figcaption>
            <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary>
                {laid.y_ticks.into_iter().map(|(y, label)| view! {
                    <line class="grid" x1=LEFT x2=right y1=y y2=y />
                    <text class="tick" x=LEFT - 6.0 y=y + 4.0 text-anchor="end">{label}</text>
                }).collect_view()}
                {laid.x_ticks.into_iter().map(|(x, label)| view! {
                    <line class="grid" x1=x x2=x y1=bottom y2=bottom + 4.0 />
                    <text class="tick" x=x y=bottom + 16.0 text-anchor="middle">{label}</text>
                }).collect_view()}
                <text class="axis-label" x=(LEFT + right) / 2.0 y=HEIGHT - 4.0 text-anchor="middle">{x_title}</text>
                <text class="axis-label" x=12.0 y=(TOP + bottom) / 2.0 text-anchor="middle"
                    transform=format!("rotate(-90 12 {})", (TOP + bottom) / 2.0)>{y_title}</text>
                <polyline class=class points=laid.points />
                {laid.last.map(|(x, y)| view! { <circle class=class cx=x cy=y r="4" /> })}
            </svg>
        </figure>
    }
}

/// A whole number, for steps, epochs and round ids.
pub fn whole(value: f64) -> String {
    // Adding zero turns a negative zero into zero.
    format!("{:.0}", value + 0.0)
}

/// A fraction in 0..=1 as a percentage.
pub fn percent(value: f64) -> String {
    format!("{:.0}%", value * 100.0)
}

/// A loss, to three significant decimals.
pub fn loss(value: f64) -> String {
    if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers_covering_the_range() {
        assert_eq!(nice_ticks(0.0, 1.0, 4, 0.0), vec![0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(0.0, 100.0, 4, 0.0), vec![0.0, 50.0, 100.0]);
        assert_eq!(
            nice_ticks(0.37, 2.31, 4, 0.0),
            vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
        );
        assert_eq!(nice_ticks(1.0, 12.0, 5, 1.0), vec![0.0, 5.0, 10.0, 15.0]);
        // Two epochs: whole ticks only, no 1.2 or 1.4.
        assert_eq!(nice_ticks(1.0, 2.0, 5, 1.0), vec![1.0, 2.0]);
        // One round: it and the next.
        assert_eq!(nice_ticks(0.0, 0.0, 5, 1.0), vec![0.0, 1.0]);
        assert_eq!(whole(-0.0), "0");
    }

    #[test]
    fn points_fall_inside_the_plot_and_the_last_one_is_marked() {
        let data = [(0.0, 2.3), (1.0, 1.2), (2.0, 0.4)];
        let laid = layout(&data, None, whole, loss);
        for pair in laid.points.split(' ') {
            let (x, y) = pair.split_once(',').unwrap();
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!((LEFT..=WIDTH - RIGHT).contains(&x), "{x}");
            assert!((TOP..=HEIGHT - BOTTOM).contains(&y), "{y}");
        }
        let (x, y) = laid.last.unwrap();
        assert!(
            (x - (WIDTH - RIGHT)).abs() < 1e-9,
            "the last step sits on the right edge"
        );
        assert!(y > TOP, "0.4 is low on a 0-3 axis");
        assert_eq!(laid.y_ticks.first().unwrap().1, "0.00");
    }

    #[test]
    fn accuracy_keeps_its_zero_to_hundred_percent_axis() {
        let laid = layout(&[(1.0, 0.9), (2.0, 0.95)], Some((0.0, 1.0)), whole, percent);
        let labels: Vec<_> = laid.y_ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels.first(), Some(&"0%"));
        assert_eq!(labels.last(), Some(&"100%"));
    }

    #[test]
    fn non_finite_values_are_left_out() {
        let laid = layout(&[(0.0, f64::NAN), (1.0, 1.0)], None, whole, loss);
        assert_eq!(laid.points.split(' ').count(), 1);
    }
}
