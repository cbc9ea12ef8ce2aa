//! Encoding and decoding of updates (see the module docs for the layout).

use half::f16;
use sha2::{Digest, Sha256};

use super::DecodeError;
use crate::model::{ModelSpec, TensorSpec, Weights};

const MAGIC: [u8; 4] = *b"DPUP";
const VERSION: u16 = 2;
const FIXED_HEADER: usize = 120;

/// What an update carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadKind {
    /// Trained weights minus the base model.
    Delta,
    /// A whole model (the global model a round ships).
    Model,
}

impl PayloadKind {
    fn name(self) -> &'static str {
        match self {
            PayloadKind::Delta => "delta",
            PayloadKind::Model => "model",
        }
    }
}

/// How values are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueEncoding {
    F32,
    F16,
    /// Symmetric int8 with one f32 scale per tensor (`value = q * scale`).
    Int8,
}

/// Value encoding plus optional top-k sparsification.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Encoding {
    pub values: ValueEncoding,
    /// Keep this fraction (0, 1] of each tensor's entries, the largest in magnitude.
    pub top_k: Option<f32>,
}

impl Default for Encoding {
    fn default() -> Self {
        Self {
            values: ValueEncoding::F32,
            top_k: None,
        }
    }
}

/// Bounds and expectations applied while decoding untrusted bytes.
#[derive(Clone, Copy, Debug)]
pub struct DecodeLimits<'a> {
    pub max_bytes: usize,
    pub max_tensors: usize,
    pub max_values: usize,
    /// The payload the caller expects.
    pub payload: PayloadKind,
    /// The model the update must fit (spec hash and tensor layout).
    pub spec: Option<(&'a ModelSpec, &'a [TensorSpec])>,
    /// The base model hash a delta must name.
    pub base_hash: Option<[u8; 32]>,
    /// The round a delta must be bound to.
    pub round: Option<[u8; 32]>,
}

impl DecodeLimits<'_> {
    /// Limits for a delta of `spec` trained from `base_hash` for `round` (64 MiB, 1,024
    /// tensors, 16 M values).
    pub fn delta<'a>(
        spec: &'a ModelSpec,
        layout: &'a [TensorSpec],
        base_hash: [u8; 32],
        round: [u8; 32],
    ) -> DecodeLimits<'a> {
        DecodeLimits {
            max_bytes: 64 << 20,
            max_tensors: 1_024,
            max_values: 16 << 20,
            payload: PayloadKind::Delta,
            spec: Some((spec, layout)),
            base_hash: Some(base_hash),
            round: Some(round),
        }
    }
}

/// A decoded update: dense values in the layout's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Update {
    pub payload: PayloadKind,
    pub spec_hash: [u8; 32],
    pub base_hash: [u8; 32],
    /// The round a delta was trained for (zero for a model), so that it cannot be replayed into
    /// another round on the same base.
    pub round: [u8; 32],
    pub samples: u64,
    pub layout: Vec<TensorSpec>,
    pub values: Vec<f32>,
}

impl Update {
    /// A delta trained from the model whose hash is `base_hash` for `round`.
    pub fn delta(
        spec: &ModelSpec,
        base_hash: [u8; 32],
        round: [u8; 32],
        samples: u64,
        layout: Vec<TensorSpec>,
        values: Vec<f32>,
    ) -> Self {
        Self {
            payload: PayloadKind::Delta,
            spec_hash: spec.hash(),
            base_hash,
            round,
            samples,
            layout,
            values,
        }
    }

    /// A whole model.
    pub fn model(spec: &ModelSpec, weights: &Weights) -> Self {
        Self {
            payload: PayloadKind::Model,
            spec_hash: spec.hash(),
            base_hash: [0; 32],
            round: [0; 32],
            samples: 0,
            layout: weights.layout.clone(),
            values: weights.values.clone(),
        }
    }

    /// The model hash used as a round's base: sha256 of the model's dense f32 encoding.
    pub fn model_hash(spec: &ModelSpec, weights: &Weights) -> [u8; 32] {
        Sha256::digest(Update::model(spec, weights).encode(Encoding::default())).into()
    }

    /// Canonical bytes. Values are quantized as asked; decoding them gives the values back up to
    /// that quantization (exactly for f32 dense).
    pub fn encode(&self, encoding: Encoding) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_HEADER + self.values.len() * 4);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(match self.payload {
            PayloadKind::Delta => 0,
            PayloadKind::Model => 1,
        });
        out.push(match encoding.values {
            ValueEncoding::F32 => 0,
            ValueEncoding::F16 => 1,
            ValueEncoding::Int8 => 2,
        });
        out.push(u8::from(encoding.top_k.is_some()));
        out.extend_from_slice(&[0; 3]);
        out.extend_from_slice(&self.spec_hash);
        out.extend_from_slice(&self.base_hash);
        out.extend_from_slice(&self.round);
        out.extend_from_slice(&self.samples.to_le_bytes());
        out.extend_from_slice(&(self.layout.len() as u32).to_le_bytes());
        for tensor in &self.layout {
            out.extend_from_slice(&(tensor.name.len() as u16).to_le_bytes());
            out.extend_from_slice(tensor.name.as_bytes());
            out.push(tensor.shape.len() as u8);
            for &dim in &tensor.shape {
                out.extend_from_slice(&(dim as u32).to_le_bytes());
            }
        }
        let mut offset = 0;
        for tensor in &self.layout {
            let values = &self.values[offset..offset + tensor.len()];
            offset += tensor.len();
            let kept: Vec<usize> = match encoding.top_k {
                Some(fraction) => {
                    let keep = ((f64::from(fraction.clamp(0.0, 1.0)) * values.len() as f64).ceil()
                        as usize)
                        .max(1);
                    let mut order: Vec<usize> = (0..values.len()).collect();
                    order.sort_by(|&a, &b| {
                        values[b].abs().total_cmp(&values[a].abs()).then(a.cmp(&b))
                    });
                    order.truncate(keep.min(values.len()));
                    order.sort_unstable();
                    order
                }
                None => (0..values.len()).collect(),
            };
            // Field order as documented: scale, then indices, then values.
            let scale = match encoding.values {
                ValueEncoding::Int8 => {
                    let max = kept.iter().fold(0f32, |m, &i| m.max(values[i].abs()));
                    let scale = if max > 0.0 { max / 127.0 } else { 0.0 };
                    out.extend_from_slice(&scale.to_le_bytes());
                    scale
                }
                _ => 0.0,
            };
            if encoding.top_k.is_some() {
                out.extend_from_slice(&(kept.len() as u32).to_le_bytes());
                for &i in &kept {
                    out.extend_from_slice(&(i as u32).to_le_bytes());
                }
            }
            for &i in &kept {
                match encoding.values {
                    ValueEncoding::F32 => out.extend_from_slice(&values[i].to_le_bytes()),
                    // Saturate: an f16 infinity would make bytes no decoder accepts.
                    ValueEncoding::F16 => out.extend_from_slice(
                        &f16::from_f32(values[i].clamp(-f16::MAX.to_f32(), f16::MAX.to_f32()))
                            .to_le_bytes(),
                    ),
                    ValueEncoding::Int8 => {
                        let q = if scale > 0.0 {
                            (values[i] / scale).round().clamp(-127.0, 127.0) as i8
                        } else {
                            0
                        };
                        out.push(q as u8);
                    }
                }
            }
        }
        out
    }

    /// Decodes untrusted bytes, checking every field against `limits`.
    pub fn decode(bytes: &[u8], limits: &DecodeLimits<'_>) -> Result<Self, DecodeError> {
        if bytes.len() > limits.max_bytes {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: limits.max_bytes,
            });
        }
        let mut r = Reader { bytes, at: 0 };
        let magic: [u8; 4] = r.array()?;
        if magic != MAGIC {
            return Err(DecodeError::BadMagic(magic));
        }
        let version = u16::from_le_bytes(r.array()?);
        if version != VERSION {
            return Err(DecodeError::UnsupportedVersion(version));
        }
        let payload = match r.byte()? {
            0 => PayloadKind::Delta,
            1 => PayloadKind::Model,
            other => return Err(DecodeError::UnknownPayload(other)),
        };
        let values_encoding = match r.byte()? {
            0 => ValueEncoding::F32,
            1 => ValueEncoding::F16,
            2 => ValueEncoding::Int8,
            other => return Err(DecodeError::UnknownEncoding(other)),
        };
        let sparse = match r.byte()? {
            0 => false,
            1 => true,
            other => return Err(DecodeError::UnknownSparsity(other)),
        };
        if r.array::<3>()? != [0; 3] {
            return Err(DecodeError::ReservedBytes);
        }
        let spec_hash: [u8; 32] = r.array()?;
        let base_hash: [u8; 32] = r.array()?;
        let round: [u8; 32] = r.array()?;
        let samples = u64::from_le_bytes(r.array()?);
        if payload != limits.payload {
            return Err(DecodeError::WrongPayload {
                expected: limits.payload.name(),
                found: payload.name(),
            });
        }
        let tensor_count = u32::from_le_bytes(r.array()?) as usize;
        if tensor_count > limits.max_tensors {
            return Err(DecodeError::TooManyTensors(tensor_count));
        }
        let mut layout: Vec<TensorSpec> = Vec::with_capacity(tensor_count);
        let mut total = 0usize;
        for _ in 0..tensor_count {
            let name_len = usize::from(u16::from_le_bytes(r.array()?));
            let name = std::str::from_utf8(r.take(name_len)?).map_err(|_| DecodeError::BadName)?;
            if name.is_empty() {
                return Err(DecodeError::BadName);
            }
            if layout.iter().any(|t| t.name == name) {
                return Err(DecodeError::DuplicateTensor(name.to_owned()));
            }
            let rank = usize::from(r.byte()?);
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(u32::from_le_bytes(r.array()?) as usize);
            }
            let len = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
            total = len
                .and_then(|len| total.checked_add(len))
                .unwrap_or(usize::MAX);
            if total > limits.max_values {
                return Err(DecodeError::TooManyValues(total));
            }
            layout.push(TensorSpec {
                name: name.to_owned(),
                shape,
            });
        }
        if let Some((spec, expected)) = limits.spec {
            if spec_hash != spec.hash() {
                return Err(DecodeError::SpecMismatch);
            }
            if layout != expected {
                return Err(DecodeError::LayoutMismatch(describe_mismatch(
                    expected, &layout,
                )));
            }
        }
        if limits.base_hash.is_some_and(|base| base != base_hash) {
            return Err(DecodeError::BaseMismatch);
        }
        if limits.round.is_some_and(|expected| expected != round) {
            return Err(DecodeError::RoundMismatch);
        }
        // A dense payload must hold every value: refuse short input before allocating for it.
        if !sparse && r.remaining() < total.saturating_mul(value_width(values_encoding)) {
            return Err(DecodeError::Truncated {
                at: r.at,
                needed: total * value_width(values_encoding) - r.remaining(),
            });
        }
        if payload == PayloadKind::Model
            && (base_hash != [0; 32] || round != [0; 32] || samples != 0)
        {
            return Err(DecodeError::NonCanonical(
                "a model names no base, no round and no samples".into(),
            ));
        }
        let mut values = vec![0f32; total];
        let mut offset = 0;
        for tensor in &layout {
            let len = tensor.len();
            let scale = match values_encoding {
                ValueEncoding::Int8 => {
                    let scale = f32::from_le_bytes(r.array()?);
                    if !(scale.is_finite() && scale >= 0.0) {
                        return Err(DecodeError::BadScale(tensor.name.clone()));
                    }
                    scale
                }
                _ => 0.0,
            };
            let indices: Option<Vec<usize>> = if sparse {
                let count = u32::from_le_bytes(r.array()?) as usize;
                if count > len || (count == 0 && len > 0) {
                    return Err(DecodeError::BadIndices(tensor.name.clone()));
                }
                let raw = r.take(
                    count
                        .checked_mul(4)
                        .ok_or(DecodeError::BadIndices(tensor.name.clone()))?,
                )?;
                let indices: Vec<usize> = raw
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")) as usize)
                    .collect();
                if indices.windows(2).any(|w| w[0] >= w[1])
                    || indices.last().is_some_and(|&i| i >= len)
                {
                    return Err(DecodeError::BadIndices(tensor.name.clone()));
                }
                Some(indices)
            } else {
                None
            };
            let count = indices.as_ref().map_or(len, Vec::len);
            let target = &mut values[offset..offset + len];
            let width = value_width(values_encoding);
            let raw = r.take(count * width)?;
            if values_encoding == ValueEncoding::Int8 {
                // The encoder maps the largest magnitude to 127 and never writes -128.
                let largest = raw
                    .iter()
                    .map(|&q| (q as i8).unsigned_abs())
                    .max()
                    .unwrap_or(0);
                let canonical = if scale == 0.0 {
                    largest == 0
                } else {
                    largest == 127 && !raw.contains(&0x80)
                };
                if !canonical {
                    return Err(DecodeError::NonCanonical(format!(
                        "tensor {:?}: int8 scale and values disagree",
                        tensor.name
                    )));
                }
            }
            for (k, chunk) in raw.chunks_exact(width).enumerate() {
                let value = match values_encoding {
                    ValueEncoding::F32 => f32::from_le_bytes(chunk.try_into().expect("4 bytes")),
                    ValueEncoding::F16 => {
                        f16::from_le_bytes(chunk.try_into().expect("2 bytes")).to_f32()
                    }
                    ValueEncoding::Int8 => f32::from(chunk[0] as i8) * scale,
                };
                if !value.is_finite() {
                    return Err(DecodeError::NonFinite(tensor.name.clone()));
                }
                target[indices.as_ref().map_or(k, |idx| idx[k])] = value;
            }
            offset += len;
        }
        if r.at != bytes.len() {
            return Err(DecodeError::TrailingBytes(bytes.len() - r.at));
        }
        Ok(Update {
            payload,
            spec_hash,
            base_hash,
            round,
            samples,
            layout,
            values,
        })
    }
}

fn describe_mismatch(expected: &[TensorSpec], found: &[TensorSpec]) -> String {
    if expected.len() != found.len() {
        return format!("{} tensors, the model has {}", found.len(), expected.len());
    }
    let (e, f) = expected
        .iter()
        .zip(found)
        .find(|(e, f)| e != f)
        .expect("layouts differ");
    format!(
        "tensor {:?} {:?}, the model has {:?} {:?}",
        f.name, f.shape, e.name, e.shape
    )
}

fn value_width(encoding: ValueEncoding) -> usize {
    match encoding {
        ValueEncoding::F32 => 4,
        ValueEncoding::F16 => 2,
        ValueEncoding::Int8 => 1,
    }
}

/// Bounds-checked cursor over untrusted bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or(DecodeError::Truncated {
            at: self.at,
            needed: len - (self.bytes.len() - self.at).min(len),
        })?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
}

#[cfg(test)]
mod tests;
