//! Server-side optimizers (FedAvgM, FedAdam, FedYogi) applied to the averaged delta, which they
//! treat as a pseudo-gradient, as Flower's FedOpt strategies do.

/// Moments kept between rounds.
#[derive(Clone, Debug, Default)]
pub(super) struct ServerState {
    momentum: Vec<f32>,
    second: Vec<f32>,
}

impl ServerState {
    /// `v = momentum * v + delta`; returns `server_lr * v`.
    pub(super) fn momentum(&mut self, delta: Vec<f32>, server_lr: f32, momentum: f32) -> Vec<f32> {
        if self.momentum.len() != delta.len() {
            self.momentum = vec![0.0; delta.len()];
        }
        self.momentum
            .iter_mut()
            .zip(&delta)
            .for_each(|(v, d)| *v = momentum * *v + d);
        self.momentum.iter().map(|v| server_lr * v).collect()
    }

    /// Adam or Yogi second moment; returns `server_lr * m / (sqrt(v) + tau)`.
    pub(super) fn adaptive(
        &mut self,
        delta: Vec<f32>,
        server_lr: f32,
        beta_1: f32,
        beta_2: f32,
        tau: f32,
        yogi: bool,
    ) -> Vec<f32> {
        if self.momentum.len() != delta.len() {
            self.momentum = vec![0.0; delta.len()];
            self.second = vec![0.0; delta.len()];
        }
        let mut out = Vec::with_capacity(delta.len());
        for ((m, v), d) in self
            .momentum
            .iter_mut()
            .zip(self.second.iter_mut())
            .zip(&delta)
        {
            *m = beta_1 * *m + (1.0 - beta_1) * d;
            let g2 = d * d;
            *v = if yogi {
                *v - (1.0 - beta_2) * g2 * sign(*v - g2)
            } else {
                beta_2 * *v + (1.0 - beta_2) * g2
            };
            out.push(server_lr * *m / (v.sqrt() + tau));
        }
        out
    }
}

/// numpy's `sign`: 0 at 0 (`f32::signum` gives 1).
fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}
