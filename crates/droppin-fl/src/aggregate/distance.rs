//! Pairwise squared Euclidean distances through the Gram matrix:
//! `||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b`, with `a.b` from GEMMs over blocks of coordinates.
//!
//! Each block of coordinates is copied once into a contiguous `n x CHUNK` buffer and multiplied by
//! its own transpose, one task per block. The Gram matrix is symmetric, so the rows are cut into
//! groups and only the group pairs on and above the diagonal are multiplied (10 of 16 for four
//! groups). Per-block results are summed in f64 in block order, so the distances do not depend on
//! the thread count.

use gemm::{Parallelism, gemm};
use rayon::prelude::*;

use super::ClientUpdate;

/// Coordinates per block: the `n x CHUNK` copy stays in the cache.
const CHUNK: usize = 8_192;
/// Rows per group of the symmetric product.
const GROUP: usize = 32;

/// The `n x n` matrix of squared distances (row-major, f64, zero diagonal).
pub fn pairwise_sq_distances(updates: &[ClientUpdate<'_>]) -> Vec<f64> {
    let n = updates.len();
    let dim = updates.first().map_or(0, |u| u.delta.len());
    let groups: Vec<(usize, usize)> = (0..n)
        .step_by(GROUP)
        .map(|start| (start, GROUP.min(n - start)))
        .collect();
    let pairs: Vec<(usize, usize)> = (0..groups.len())
        .flat_map(|a| (a..groups.len()).map(move |b| (a, b)))
        .collect();
    let starts: Vec<usize> = (0..dim).step_by(CHUNK).collect();
    let partials: Vec<Vec<f32>> = starts
        .par_iter()
        .map(|&start| {
            let width = CHUNK.min(dim - start);
            let mut block = vec![0f32; n * width];
            for (i, update) in updates.iter().enumerate() {
                block[i * width..(i + 1) * width]
                    .copy_from_slice(&update.delta[start..start + width]);
            }
            let mut partial = vec![0f32; n * n];
            for &(a, b) in &pairs {
                let ((row_a, rows_a), (row_b, rows_b)) = (groups[a], groups[b]);
                // SAFETY: `block` holds n rows of `width` values (row stride `width`); the product
                // of rows `row_a..row_a + rows_a` by rows `row_b..row_b + rows_b` is written to
                // `partial` at (row_a, row_b) with row stride n, inside its n x n values.
                unsafe {
                    gemm(
                        rows_a,
                        rows_b,
                        width,
                        partial.as_mut_ptr().add(row_a * n + row_b),
                        1,
                        n as isize,
                        false,
                        block.as_ptr().add(row_a * width),
                        1,
                        width as isize,
                        block.as_ptr().add(row_b * width),
                        width as isize,
                        1,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        Parallelism::None,
                    );
                }
            }
            partial
        })
        .collect();
    let mut gram = vec![0f64; n * n];
    for partial in &partials {
        gram.iter_mut()
            .zip(partial)
            .for_each(|(g, &p)| *g += f64::from(p));
    }
    let group_of = |i: usize| i / GROUP;
    let dot = |i: usize, j: usize| {
        if group_of(i) <= group_of(j) {
            gram[i * n + j]
        } else {
            gram[j * n + i]
        }
    };
    let mut distances = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            if i != j {
                distances[i * n + j] = (dot(i, i) + dot(j, j) - 2.0 * dot(i, j)).max(0.0);
            }
        }
    }
    distances
}
