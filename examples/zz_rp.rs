use mapfit::ridge_path::RidgePath;
use nalgebra::{DMatrix, DVector};
fn main() {
    for &(n, p, l) in &[
        (200usize, 37usize, 100usize),
        (50, 120, 23),
        (300, 100, 7),
        (40, 3, 5),
        (500, 64, 101),
    ] {
        let x = DMatrix::from_fn(n, p, |i, j| {
            ((i * 31 + j * 17) % 29) as f64 / 7.0 - 2.0 + ((i * j) % 5) as f64 * 0.1
        });
        let y = DVector::from_fn(n, |i, _| ((i * 7) % 13) as f64 - 6.0);
        let fit = RidgePath::new().n_lambda(l).fit(&x, &y).unwrap();
        let mut h: u64 = 1469598103934665603;
        for v in fit
            .coefficient_matrix()
            .iter()
            .chain(fit.effective_df().unwrap().iter())
            .chain(fit.intercepts().iter())
        {
            h ^= v.to_bits();
            h = h.wrapping_mul(1099511628211);
        }
        println!("{n}x{p} L={l}: {h:016x} {:?}", fit.factorization());
    }
}
