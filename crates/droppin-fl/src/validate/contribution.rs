//! Contribution weights in basis points, by integer arithmetic so every validator agrees.

/// Splits 10,000 basis points in proportion to the positive gains (already quantized to
/// `quantum`). Remainders go to the largest fractional parts, then to the lower index. With no
/// positive gain at all, the split is equal.
pub fn basis_points(gains: &[f64], quantum: f64) -> Vec<u16> {
    const TOTAL: u64 = 10_000;
    if gains.is_empty() {
        return Vec::new();
    }
    let units: Vec<u64> = gains
        .iter()
        // Capped so that `units * 10,000` cannot overflow, whatever the gains.
        .map(|g| (g / quantum).round().clamp(0.0, 1e12) as u64)
        .collect();
    let units = if units.iter().all(|&u| u == 0) {
        vec![1; gains.len()]
    } else {
        units
    };
    let sum: u64 = units.iter().sum();
    let mut shares: Vec<u64> = units.iter().map(|u| u * TOTAL / sum).collect();
    let mut remainders: Vec<(u64, usize)> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u * TOTAL % sum, i))
        .collect();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let missing = TOTAL - shares.iter().sum::<u64>();
    for &(_, i) in remainders.iter().take(missing as usize) {
        shares[i] += 1;
    }
    shares.into_iter().map(|s| s as u16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_to_ten_thousand_and_ignores_negative_gains() {
        assert_eq!(
            basis_points(&[3e-6, 1e-6, -5e-6], 1e-6),
            vec![7_500, 2_500, 0]
        );
        assert_eq!(
            basis_points(&[1e-6, 1e-6, 1e-6], 1e-6),
            vec![3_334, 3_333, 3_333]
        );
        assert_eq!(basis_points(&[0.0, -1.0], 1e-6), vec![5_000, 5_000]);
        assert_eq!(basis_points(&[0.5], 1e-6), vec![10_000]);
    }
}
