//! Pairwise squared Euclidean distances through the Gram matrix:
//! `||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b`, with `a.b` from one GEMM per block of coordinates.

use gemm::{Parallelism, gemm};

use super::ClientUpdate;

/// Coordinates per GEMM: the `n x CHUNK` block is copied once and stays in cache.
const CHUNK: usize = 8_192;

/// The `n x n` matrix of squared distances (row-major, f64, zero diagonal). The Gram matrix is
/// accumulated per block in f64, so cancellation in the identity stays small.
pub fn pairwise_sq_distances(updates: &[ClientUpdate<'_>]) -> Vec<f64> {
    let n = updates.len();
    let dim = updates.first().map_or(0, |u| u.delta.len());
    let mut gram = vec![0f64; n * n];
    let mut block = vec![0f32; n * CHUNK];
    let mut partial = vec![0f32; n * n];
    let threads = rayon::current_num_threads();
    for start in (0..dim).step_by(CHUNK) {
        let width = CHUNK.min(dim - start);
        for (i, update) in updates.iter().enumerate() {
            block[i * width..(i + 1) * width].copy_from_slice(&update.delta[start..start + width]);
        }
        // SAFETY: `block` holds n rows of `width` values (row stride `width`), `partial` holds
        // n x n values; every index gemm touches is inside those buffers.
        unsafe {
            gemm(
                n,
                n,
                width,
                partial.as_mut_ptr(),
                1,
                n as isize,
                false,
                block.as_ptr(),
                1,
                width as isize,
                block.as_ptr(),
                width as isize,
                1,
                0.0,
                1.0,
                false,
                false,
                false,
                if threads > 1 {
                    Parallelism::Rayon(threads)
                } else {
                    Parallelism::None
                },
            );
        }
        gram.iter_mut()
            .zip(&partial)
            .for_each(|(g, &p)| *g += f64::from(p));
    }
    let mut distances = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                distances[i * n + j] =
                    (gram[i * n + i] + gram[j * n + j] - 2.0 * gram[i * n + j]).max(0.0);
            }
        }
    }
    distances
}
