//! The accuracy chart `dpin demo` writes: test accuracy of the global model after each round.

use std::path::Path;

use plotters::prelude::*;

/// Draws `accuracy[r]` (the model after `r` rounds; `r = 0` is the initial model) as an SVG.
pub fn accuracy_chart(path: &Path, accuracy: &[f64]) -> anyhow::Result<()> {
    let root = SVGBackend::new(path, (640, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let last = accuracy.len().saturating_sub(1).max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("dropPIN: global model accuracy", ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..last, 0f64..100f64)?;
    chart
        .configure_mesh()
        .x_desc("round")
        .y_desc("test accuracy (%)")
        .x_labels(accuracy.len().clamp(2, 11))
        .draw()?;
    let points: Vec<(f64, f64)> = accuracy
        .iter()
        .enumerate()
        .map(|(round, a)| (round as f64, 100.0 * a))
        .collect();
    chart.draw_series(LineSeries::new(points.clone(), BLUE.stroke_width(2)))?;
    chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, BLUE.filled())))?;
    root.present()?;
    Ok(())
}
