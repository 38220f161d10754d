//! Every figure renders to a valid, non-empty PNG and SVG.
#![cfg(feature = "plot")]

use mapfit::plot;
use std::path::PathBuf;

fn out(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mapfit-plots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn assert_png(path: &PathBuf) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.len() > 2000,
        "{} is only {} bytes",
        path.display(),
        bytes.len()
    );
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
}

fn assert_svg(path: &PathBuf) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains("<svg") && text.contains("</svg>"),
        "{} is not an SVG",
        path.display()
    );
    assert!(text.len() > 2000);
}

#[test]
fn all_figures_render_as_png_and_svg() {
    let lambdas: Vec<f64> = (0..50)
        .map(|k| 10f64.powf(1.0 - 4.0 * k as f64 / 49.0))
        .collect();
    let coefs: Vec<Vec<f64>> = (0..4)
        .map(|j| {
            lambdas
                .iter()
                .map(|l| ((j as f64 + 1.0) - l).max(0.0) * if j % 2 == 0 { 1.0 } else { -1.0 })
                .collect()
        })
        .collect();
    let names: Vec<String> = (0..4).map(|j| format!("x{j}")).collect();
    let cvm: Vec<f64> = lambdas
        .iter()
        .map(|l| (l.ln() + 2.0).powi(2) + 1.0)
        .collect();
    let cvsd: Vec<f64> = cvm.iter().map(|m| 0.1 * m).collect();
    let train: Vec<f64> = lambdas.iter().map(|l| 1.0 + l.ln()).collect();
    for ext in ["png", "svg"] {
        let p1 = out(&format!("paths.{ext}"));
        plot::coefficient_paths(
            &p1,
            &lambdas,
            &coefs,
            &names,
            &[("λ_min", 0.1), ("λ_1se", 0.5)],
        )
        .unwrap();
        let p2 = out(&format!("cv.{ext}"));
        plot::cv_curve(&p2, &lambdas, &cvm, &cvsd, &[("λ_min", 0.135)]).unwrap();
        let p3 = out(&format!("error.{ext}"));
        let xs: Vec<f64> = lambdas.iter().map(|l| l.ln()).collect();
        plot::train_test_error(&p3, "ln λ", &xs, &train, &cvm).unwrap();
        let p4 = out(&format!("geometry.{ext}"));
        plot::constraint_geometry(&p4).unwrap();
        for p in [&p1, &p2, &p3, &p4] {
            if ext == "png" {
                assert_png(p);
            } else {
                assert_svg(p);
            }
        }
    }
}

#[test]
fn bad_extension_and_ragged_input_are_errors() {
    assert!(matches!(
        plot::constraint_geometry(&out("x.bmp")),
        Err(mapfit::Error::Io { .. })
    ));
    assert!(matches!(
        plot::cv_curve(&out("y.png"), &[1.0, 2.0], &[1.0], &[1.0, 1.0], &[]),
        Err(mapfit::Error::DimensionMismatch { .. })
    ));
}
