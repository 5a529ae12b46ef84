//! PNG charts of a simulation: test accuracy (and test loss) per round.

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::error::{Error, Result};
use crate::simulate::RoundReport;

/// DejaVu Sans, under the Bitstream Vera licence (see `data/fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans.ttf");

/// Smallest and largest accepted chart side, in pixels.
pub const PLOT_SIDE_RANGE: std::ops::RangeInclusive<u32> = 200..=4096;

/// The error type of drawing on the in-memory bitmap.
pub type DrawError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// Draw test accuracy per round (left axis, 0–1) and test loss per round (right axis) as a
/// `width × height` RGB PNG, returned as the file's bytes.
///
/// # Errors
/// [`Error::Config`] for no rounds or a side outside [`PLOT_SIDE_RANGE`]; [`Error::Plot`] or
/// [`Error::PngEncode`] if drawing or encoding fails.
pub fn plot_png(rounds: &[RoundReport], title: &str, width: u32, height: u32) -> Result<Vec<u8>> {
    if rounds.is_empty() {
        return Err(Error::Config {
            reason: "nothing to plot: the simulation has no rounds".into(),
        });
    }
    for side in [width, height] {
        if !PLOT_SIDE_RANGE.contains(&side) {
            return Err(Error::Config {
                reason: format!(
                    "plot side {side} px is outside {}..={}",
                    PLOT_SIDE_RANGE.start(),
                    PLOT_SIDE_RANGE.end()
                ),
            });
        }
    }
    // The embedded font is a valid TrueType file; registering it again is harmless.
    register_font("sans-serif", FontStyle::Normal, FONT).map_err(|_| Error::Config {
        reason: "the embedded plot font is unreadable".into(),
    })?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    draw(&mut rgb, rounds, title, width, height).map_err(|e| Error::Plot {
        source: Box::new(e),
    })?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

fn draw(
    rgb: &mut [u8],
    rounds: &[RoundReport],
    title: &str,
    width: u32,
    height: u32,
) -> std::result::Result<(), DrawError> {
    let root = BitMapBackend::with_buffer(rgb, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let last = rounds.iter().map(|r| r.round).max().unwrap_or(1).max(1);
    let losses: Vec<(usize, f64)> = rounds
        .iter()
        .filter(|r| r.loss.is_finite())
        .map(|r| (r.round, r.loss))
        .collect();
    let max_loss = losses.iter().map(|&(_, l)| l).fold(0.0f64, f64::max);
    let loss_top = if max_loss > 0.0 { max_loss * 1.1 } else { 1.0 };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(52)
        .right_y_label_area_size(52)
        .build_cartesian_2d(0usize..last, 0.0f64..1.0)?
        .set_secondary_coord(0usize..last, 0.0f64..loss_top);
    chart
        .configure_mesh()
        .x_desc("round")
        .y_desc("test accuracy")
        .label_style(("sans-serif", 14))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("test loss")
        .label_style(("sans-serif", 14))
        .draw()?;
    let accuracy = rounds.iter().map(|r| (r.round, r.accuracy.clamp(0.0, 1.0)));
    chart
        .draw_series(LineSeries::new(accuracy, BLUE.stroke_width(2)))?
        .label("accuracy")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_secondary_series(LineSeries::new(losses, RED.stroke_width(2)))?
        .label("loss")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounds(n: usize) -> Vec<RoundReport> {
        (1..=n)
            .map(|round| RoundReport {
                round,
                accuracy: 0.1 + 0.8 * round as f64 / n as f64,
                loss: 2.3 / round as f64,
                train_loss: 0.0,
                wall_ms: 0.0,
                cpu_ms: 0.0,
                train_ms: 0.0,
                aggregate_ms: 0.0,
                secagg_ms: 0.0,
                updates: 10,
                dropped: Vec::new(),
                flags: Vec::new(),
                rejected: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn writes_a_valid_png_of_the_requested_size() {
        let bytes = plot_png(&rounds(20), "fedavg on digits", 640, 400).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (640, 400));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let pixels = &buf[..frame.buffer_size()];
        // Something besides the white background was drawn: the blue accuracy line, the red
        // loss line and dark text.
        let has = |f: &dyn Fn(&[u8]) -> bool| pixels.chunks_exact(3).any(f);
        assert!(
            has(&|p| p[2] > 200 && p[0] < 60 && p[1] < 60),
            "no blue line"
        );
        assert!(
            has(&|p| p[0] > 200 && p[1] < 60 && p[2] < 60),
            "no red line"
        );
        assert!(has(&|p| p.iter().all(|&c| c < 80)), "no dark text or axes");
    }

    #[test]
    fn refuses_empty_runs_and_bad_sizes() {
        assert!(matches!(
            plot_png(&[], "t", 640, 400),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            plot_png(&rounds(3), "t", 10, 400),
            Err(Error::Config { .. })
        ));
        assert!(matches!(
            plot_png(&rounds(3), "t", 640, 100_000),
            Err(Error::Config { .. })
        ));
        // A single round and a non-finite loss still draw.
        let mut one = rounds(1);
        one[0].loss = f64::NAN;
        assert!(plot_png(&one, "t", 300, 200).is_ok());
    }
}
