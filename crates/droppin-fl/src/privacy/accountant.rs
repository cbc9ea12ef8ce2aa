//! Rényi-DP accountant for the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019), with the
//! RDP-to-(epsilon, delta) conversion of Balle et al. 2020 that Opacus uses.
//!
//! Orders are integers, where the RDP of the sampled Gaussian has an exact finite sum; fractional
//! orders would only tighten epsilon slightly, so the figures here are conservative.

use crate::FlError;

/// Integer orders 2..=256: dense where the optimum usually lies, sparse beyond.
pub const DEFAULT_ORDERS: [u32; 40] = [
    2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 24, 26, 28, 30, 32, 36,
    40, 44, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 240, 256,
];

/// Privacy spent so far, at a target delta.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrivacySpent {
    pub epsilon: f64,
    pub delta: f64,
    /// The RDP order that gave the smallest epsilon.
    pub order: u32,
}

/// Accumulates RDP over steps of the sampled Gaussian mechanism.
#[derive(Clone, Debug)]
pub struct RdpAccountant {
    orders: Vec<u32>,
    rdp: Vec<f64>,
}

impl Default for RdpAccountant {
    fn default() -> Self {
        Self::with_orders(&DEFAULT_ORDERS)
    }
}

impl RdpAccountant {
    pub fn with_orders(orders: &[u32]) -> Self {
        Self {
            orders: orders.to_vec(),
            rdp: vec![0.0; orders.len()],
        }
    }

    /// Records `steps` releases, each with sampling rate `q` and noise multiplier `sigma`.
    pub fn step(&mut self, q: f64, sigma: f64, steps: u64) -> Result<(), FlError> {
        if !(0.0..=1.0).contains(&q) || sigma.is_nan() || sigma <= 0.0 {
            return Err(FlError::Privacy(format!(
                "need 0 <= q <= 1 and sigma > 0, got q = {q}, sigma = {sigma}"
            )));
        }
        for (order, rdp) in self.orders.iter().zip(self.rdp.iter_mut()) {
            *rdp += steps as f64 * sampled_gaussian_rdp(q, sigma, *order);
        }
        Ok(())
    }

    /// The smallest epsilon over the orders at `delta`.
    pub fn spent(&self, delta: f64) -> Result<PrivacySpent, FlError> {
        if !(delta > 0.0 && delta < 1.0) {
            return Err(FlError::Privacy(format!(
                "delta must be in (0, 1), got {delta}"
            )));
        }
        self.orders
            .iter()
            .zip(&self.rdp)
            .map(|(&order, &rdp)| {
                let a = f64::from(order);
                let epsilon = rdp - (delta.ln() + a.ln()) / (a - 1.0) + ((a - 1.0) / a).ln();
                PrivacySpent {
                    epsilon: epsilon.max(0.0),
                    delta,
                    order,
                }
            })
            .min_by(|x, y| x.epsilon.total_cmp(&y.epsilon))
            .ok_or_else(|| FlError::Privacy("no RDP orders".into()))
    }

    /// The smallest noise multiplier whose `steps` releases at rate `q` stay within
    /// `(target_epsilon, delta)`, found by bisection.
    pub fn noise_for(target_epsilon: f64, delta: f64, q: f64, steps: u64) -> Result<f64, FlError> {
        let epsilon_at = |sigma: f64| -> Result<f64, FlError> {
            let mut accountant = RdpAccountant::default();
            accountant.step(q, sigma, steps)?;
            Ok(accountant.spent(delta)?.epsilon)
        };
        let (mut low, mut high) = (0.05, 0.05);
        while epsilon_at(high)? > target_epsilon {
            high *= 2.0;
            if high > 1e4 {
                return Err(FlError::Privacy(format!(
                    "epsilon {target_epsilon} is out of reach"
                )));
            }
        }
        for _ in 0..60 {
            let mid = (low + high) / 2.0;
            if epsilon_at(mid)? > target_epsilon {
                low = mid
            } else {
                high = mid
            }
        }
        Ok(high)
    }
}

/// RDP of one sampled Gaussian release at integer order `alpha`:
/// `log(sum_i C(a,i) (1-q)^(a-i) q^i exp((i^2 - i) / (2 sigma^2))) / (a - 1)`.
fn sampled_gaussian_rdp(q: f64, sigma: f64, alpha: u32) -> f64 {
    let a = f64::from(alpha);
    if q == 0.0 {
        return 0.0;
    }
    if q == 1.0 {
        return a / (2.0 * sigma * sigma);
    }
    let mut log_sum = f64::NEG_INFINITY;
    for i in 0..=alpha {
        let i_f = f64::from(i);
        let term = log_binomial(alpha, i)
            + i_f * q.ln()
            + (a - i_f) * (1.0 - q).ln()
            + (i_f * i_f - i_f) / (2.0 * sigma * sigma);
        log_sum = log_add(log_sum, term);
    }
    log_sum / (a - 1.0)
}

fn log_binomial(n: u32, k: u32) -> f64 {
    (1..=k)
        .map(|j| (f64::from(n - k + j) / f64::from(j)).ln())
        .sum()
}

fn log_add(a: f64, b: f64) -> f64 {
    let (high, low) = if a > b { (a, b) } else { (b, a) };
    if low == f64::NEG_INFINITY {
        high
    } else {
        high + (low - high).exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opacus's documented example (`compute_dp_sgd_privacy`): sample rate 1%, noise multiplier
    /// 1.0, 300 steps, orders {2, 5, 10, 20, 100}, delta 1e-5 gives epsilon 2.39 at order 5.
    #[test]
    fn reproduces_opacus_published_value() {
        let mut accountant = RdpAccountant::with_orders(&[2, 5, 10, 20, 100]);
        accountant.step(0.01, 1.0, 300).unwrap();
        let spent = accountant.spent(1e-5).unwrap();
        assert!(
            (spent.epsilon - 2.39).abs() / 2.39 < 0.01,
            "epsilon {}",
            spent.epsilon
        );
        assert_eq!(spent.order, 5);
    }

    #[test]
    fn full_participation_is_the_plain_gaussian_and_noise_search_inverts_it() {
        assert!((sampled_gaussian_rdp(1.0, 2.0, 8) - 1.0).abs() < 1e-12);
        // With q = 1 the sum form must agree with the closed form.
        let near_one = sampled_gaussian_rdp(1.0 - 1e-12, 2.0, 8);
        assert!((near_one - 1.0).abs() < 1e-6, "{near_one}");
        let sigma = RdpAccountant::noise_for(3.0, 1e-5, 0.1, 100).unwrap();
        let mut accountant = RdpAccountant::default();
        accountant.step(0.1, sigma, 100).unwrap();
        assert!((accountant.spent(1e-5).unwrap().epsilon - 3.0).abs() < 1e-3);
    }
}
