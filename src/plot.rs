//! Figures (feature `plot`): PNG or SVG by the file's extension, drawn with plotters and an
//! embedded DejaVu Sans font, so nothing outside cargo is needed (no fontconfig).
//!
//! Every function takes plain slices, so it can draw a path, a CV curve or any table.

use crate::error::{Error, Result};
use nalgebra::{dmatrix, dvector, DMatrix, DVector};
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

static FONT: Once = Once::new();
const DEJAVU: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate; if plotters still
        // refused them, text would be missing but drawing would go on.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, DEJAVU);
    });
}

fn draw_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Io {
        path: path.display().to_string(),
        message: format!("drawing failed: {e:?}"),
    }
}

/// Renders `$body` with the backend chosen by the path's extension (`.png` or `.svg`); the
/// body sees the drawing area as `$root` and evaluates to `Result<()>`.
macro_rules! render {
    ($path:expr, $size:expr, |$root:ident| $body:block) => {{
        register_font();
        let path: &Path = $path;
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "png" => {
                let area = BitMapBackend::new(path, $size).into_drawing_area();
                area.fill(&WHITE).map_err(draw_err(path))?;
                {
                    let $root = &area;
                    let r: Result<()> = $body;
                    r?;
                }
                area.present().map_err(draw_err(path))
            }
            "svg" => {
                let area = SVGBackend::new(path, $size).into_drawing_area();
                area.fill(&WHITE).map_err(draw_err(path))?;
                {
                    let $root = &area;
                    let r: Result<()> = $body;
                    r?;
                }
                area.present().map_err(draw_err(path))
            }
            _ => Err(Error::Io {
                path: path.display().to_string(),
                message: "figure files must end in .png or .svg".into(),
            }),
        }
    }};
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-12);
    (lo - pad, hi + pad)
}

fn palette(k: usize) -> RGBColor {
    let c = Palette99::pick(k).to_rgba();
    RGBColor(c.0, c.1, c.2)
}

/// Coefficient paths against `ln λ`: one line per coefficient (`coefs[j][k]` is coefficient
/// `j` at `lambdas[k]`), with labelled vertical lines at `marks` (e.g. λ_min, λ_1se).
///
/// # Errors
/// [`Error::DimensionMismatch`] for ragged input; [`Error::Io`] if the file cannot be written.
pub fn coefficient_paths(
    path: &Path,
    lambdas: &[f64],
    coefs: &[Vec<f64>],
    names: &[String],
    marks: &[(&str, f64)],
) -> Result<()> {
    check_lengths(lambdas.len(), coefs.iter().map(Vec::len))?;
    let xs: Vec<f64> = lambdas.iter().map(|l| l.ln()).collect();
    let (x0, x1) = range(xs.iter().copied());
    let (y0, y1) = range(coefs.iter().flatten().copied());
    render!(path, (900, 600), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Coefficient paths", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err(path))?;
        chart
            .configure_mesh()
            .x_desc("ln λ")
            .y_desc("coefficient")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(draw_err(path))?;
        for (j, c) in coefs.iter().enumerate() {
            let color = palette(j);
            let label = names.get(j).cloned().unwrap_or_else(|| format!("w{j}"));
            chart
                .draw_series(LineSeries::new(
                    xs.iter().copied().zip(c.iter().copied()),
                    &color,
                ))
                .map_err(draw_err(path))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        for (k, (label, l)) in marks.iter().enumerate() {
            let x = l.ln();
            let style = if k == 0 {
                BLACK
            } else {
                RGBColor(120, 120, 120)
            };
            chart
                .draw_series(LineSeries::new(
                    vec![(x, y0), (x, y1)],
                    style.stroke_width(1),
                ))
                .map_err(draw_err(path))?
                .label(format!("{label} = {l:.4}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(draw_err(path))?;
        Ok(())
    })
}

/// The cross-validation curve: mean CV error ± one standard error against `ln λ`, with
/// vertical lines at `marks`.
///
/// # Errors
/// As [`coefficient_paths`].
pub fn cv_curve(
    path: &Path,
    lambdas: &[f64],
    cvm: &[f64],
    cvsd: &[f64],
    marks: &[(&str, f64)],
) -> Result<()> {
    check_lengths(lambdas.len(), [cvm.len(), cvsd.len()].into_iter())?;
    let xs: Vec<f64> = lambdas.iter().map(|l| l.ln()).collect();
    let (x0, x1) = range(xs.iter().copied());
    let (y0, y1) = range(cvm.iter().zip(cvsd).flat_map(|(m, s)| [m - s, m + s]));
    render!(path, (900, 600), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Cross-validation (mean ± 1 SE)", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err(path))?;
        chart
            .configure_mesh()
            .x_desc("ln λ")
            .y_desc("CV error")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(draw_err(path))?;
        chart
            .draw_series(xs.iter().zip(cvm).zip(cvsd).map(|((&x, &m), &s)| {
                ErrorBar::new_vertical(x, m - s, m, m + s, RGBColor(150, 150, 150).filled(), 4)
            }))
            .map_err(draw_err(path))?;
        chart
            .draw_series(
                xs.iter()
                    .zip(cvm)
                    .map(|(&x, &m)| Circle::new((x, m), 3, RED.filled())),
            )
            .map_err(draw_err(path))?;
        for (label, l) in marks {
            let x = l.ln();
            chart
                .draw_series(LineSeries::new(
                    vec![(x, y0), (x, y1)],
                    BLACK.stroke_width(1),
                ))
                .map_err(draw_err(path))?
                .label(format!("{label} = {l:.4}"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(draw_err(path))?;
        Ok(())
    })
}

/// Training and test error against a complexity axis (e.g. `ln λ`), one line each.
///
/// # Errors
/// As [`coefficient_paths`].
pub fn train_test_error(
    path: &Path,
    x_label: &str,
    xs: &[f64],
    train: &[f64],
    test: &[f64],
) -> Result<()> {
    check_lengths(xs.len(), [train.len(), test.len()].into_iter())?;
    let (x0, x1) = range(xs.iter().copied());
    let (y0, y1) = range(train.iter().chain(test).copied());
    render!(path, (900, 600), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Training and test error", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err(path))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("error")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(draw_err(path))?;
        for (label, ys, color) in [("training", train, BLUE), ("test", test, RED)] {
            chart
                .draw_series(LineSeries::new(
                    xs.iter().copied().zip(ys.iter().copied()),
                    color.stroke_width(2),
                ))
                .map_err(draw_err(path))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(draw_err(path))?;
        Ok(())
    })
}

/// Solution of `min ½(w − w*)ᵀH(w − w*)` on `‖w‖₂ ≤ r` (2-D), by bisection on the ridge
/// multiplier.
fn l2_constrained(h: &DMatrix<f64>, ws: &DVector<f64>, r: f64) -> DVector<f64> {
    let solve = |l: f64| {
        let a = h + DMatrix::identity(2, 2) * l;
        a.lu().solve(&(h * ws)).unwrap_or_else(|| DVector::zeros(2))
    };
    if ws.norm() <= r {
        return ws.clone();
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while solve(hi).norm() > r {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if solve(mid).norm() > r {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    solve(hi)
}

/// Solution on `‖w‖₁ ≤ t` (2-D): bisection on the lasso multiplier, each lasso solved by
/// coordinate descent.
fn l1_constrained(h: &DMatrix<f64>, ws: &DVector<f64>, t: f64) -> DVector<f64> {
    let lasso = |a: f64| {
        let mut w = DVector::zeros(2);
        let g = h * ws;
        for _ in 0..2000 {
            for j in 0..2 {
                let other: f64 = (0..2).filter(|&k| k != j).map(|k| h[(j, k)] * w[k]).sum();
                w[j] = crate::closed_form::soft_threshold(g[j] - other, a) / h[(j, j)];
            }
        }
        w
    };
    if ws.abs().sum() <= t {
        return ws.clone();
    }
    let (mut lo, mut hi) = (0.0, (h * ws).amax());
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if lasso(mid).abs().sum() > t {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lasso(hi)
}

/// The classic picture: contours of a squared loss `½(w − w*)ᵀH(w − w*)` with the L2 disc
/// (Gaussian prior) and the L1 diamond (Laplace prior) of the same "size", and the
/// constrained solutions marked — the diamond's lands on a corner (an exact zero).
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
pub fn constraint_geometry(path: &Path) -> Result<()> {
    let h = dmatrix![1.0, 0.45; 0.45, 0.6];
    let ws = dvector![2.2, 1.1];
    let radius = 1.0;
    let w2 = l2_constrained(&h, &ws, radius);
    let w1 = l1_constrained(&h, &ws, radius);
    let eig = h.clone().symmetric_eigen();
    let ellipse = |level: f64| -> Vec<(f64, f64)> {
        (0..=200)
            .map(|k| {
                let t = 2.0 * std::f64::consts::PI * k as f64 / 200.0;
                let mut p = ws.clone();
                for i in 0..2 {
                    let a = (2.0 * level / eig.eigenvalues[i]).sqrt()
                        * if i == 0 { t.cos() } else { t.sin() };
                    p += eig.eigenvectors.column(i) * a;
                }
                (p[0], p[1])
            })
            .collect()
    };
    let loss = |w: &DVector<f64>| 0.5 * (w - &ws).dot(&(&h * (w - &ws)));
    let levels = [loss(&w1), loss(&w2), 0.05, 0.3];
    render!(path, (800, 700), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "L2 disc vs L1 diamond: where the loss meets the constraint",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(-1.6f64..3.4, -1.6f64..2.6)
            .map_err(draw_err(path))?;
        chart
            .configure_mesh()
            .x_desc("w₁")
            .y_desc("w₂")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(draw_err(path))?;
        for lv in levels {
            chart
                .draw_series(LineSeries::new(ellipse(lv), RGBColor(160, 160, 160)))
                .map_err(draw_err(path))?;
        }
        let disc: Vec<(f64, f64)> = (0..=200)
            .map(|k| {
                let t = 2.0 * std::f64::consts::PI * k as f64 / 200.0;
                (radius * t.cos(), radius * t.sin())
            })
            .collect();
        chart
            .draw_series(LineSeries::new(disc, BLUE.stroke_width(2)))
            .map_err(draw_err(path))?
            .label("‖w‖₂ ≤ 1 (Gaussian prior)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        let diamond = vec![
            (radius, 0.0),
            (0.0, radius),
            (-radius, 0.0),
            (0.0, -radius),
            (radius, 0.0),
        ];
        chart
            .draw_series(LineSeries::new(diamond, RED.stroke_width(2)))
            .map_err(draw_err(path))?
            .label("‖w‖₁ ≤ 1 (Laplace prior)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart
            .draw_series([
                Circle::new((ws[0], ws[1]), 5, BLACK.filled()),
                Circle::new((w2[0], w2[1]), 5, BLUE.filled()),
                Circle::new((w1[0], w1[1]), 5, RED.filled()),
            ])
            .map_err(draw_err(path))?;
        chart
            .draw_series([
                Text::new(
                    "w* (least squares)".to_string(),
                    (ws[0] + 0.08, ws[1] + 0.08),
                    ("sans-serif", 13),
                ),
                Text::new(
                    format!("ridge ({:.2}, {:.2})", w2[0], w2[1]),
                    (w2[0] + 0.08, w2[1] + 0.1),
                    ("sans-serif", 13),
                ),
                Text::new(
                    format!("lasso ({:.2}, {:.2})", w1[0], w1[1]),
                    (w1[0] + 0.08, w1[1] - 0.15),
                    ("sans-serif", 13),
                ),
            ])
            .map_err(draw_err(path))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(draw_err(path))?;
        Ok(())
    })
}

fn check_lengths(n: usize, others: impl Iterator<Item = usize>) -> Result<()> {
    for m in others {
        if m != n {
            return Err(Error::DimensionMismatch {
                what: "plotted series",
                expected: n,
                found: m,
            });
        }
    }
    if n == 0 {
        return Err(Error::EmptyData {
            what: "nothing to plot",
        });
    }
    Ok(())
}
