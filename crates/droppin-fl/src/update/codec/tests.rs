use proptest::prelude::*;

use super::*;
use crate::model::ModelSpec;

const ROUND: [u8; 32] = [7; 32];

fn sample() -> (ModelSpec, Weights, Update) {
    let spec = ModelSpec::digits_mlp();
    let base = Weights::initial(&spec, 1);
    let values: Vec<f32> = (0..base.values.len())
        .map(|i| ((i * 7919) % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    let update = Update::delta(
        &spec,
        Update::model_hash(&spec, &base),
        ROUND,
        108,
        base.layout.clone(),
        values,
    );
    (spec, base, update)
}

fn limits<'a>(spec: &'a ModelSpec, base: &'a Weights) -> DecodeLimits<'a> {
    DecodeLimits::delta(spec, &base.layout, Update::model_hash(spec, base), ROUND)
}

#[test]
fn round_trips_in_every_encoding() {
    let (spec, base, update) = sample();
    let limits = limits(&spec, &base);
    let dense = update.encode(Encoding::default());
    assert_eq!(Update::decode(&dense, &limits).unwrap(), update);
    for (values, tolerance) in [
        (ValueEncoding::F16, 1e-3),
        (ValueEncoding::Int8, 1.0 / 127.0),
    ] {
        let bytes = update.encode(Encoding {
            values,
            top_k: None,
        });
        let decoded = Update::decode(&bytes, &limits).unwrap();
        assert!(
            decoded
                .values
                .iter()
                .zip(&update.values)
                .all(|(a, b)| (a - b).abs() <= tolerance)
        );
        assert_eq!(
            decoded.encode(Encoding {
                values,
                top_k: None
            }),
            bytes,
            "canonical"
        );
    }
    let both = Encoding {
        values: ValueEncoding::Int8,
        top_k: Some(0.2),
    };
    let bytes = update.encode(both);
    let decoded = Update::decode(&bytes, &limits).unwrap();
    assert_eq!(decoded.encode(both), bytes, "int8 with top-k round-trips");
    let sparse = update.encode(Encoding {
        values: ValueEncoding::F32,
        top_k: Some(0.1),
    });
    let decoded = Update::decode(&sparse, &limits).unwrap();
    let kept = decoded.values.iter().filter(|v| **v != 0.0).count();
    assert!(kept <= update.values.len() / 10 + update.layout.len());
    assert!(sparse.len() < dense.len() / 4);
    // The kept entries are the largest ones, exactly.
    let threshold = decoded
        .values
        .iter()
        .filter(|v| **v != 0.0)
        .fold(f32::MAX, |m, v| m.min(v.abs()));
    assert!(
        update
            .values
            .iter()
            .zip(&decoded.values)
            .all(|(u, d)| *d == *u || *d == 0.0)
    );
    assert!(threshold > 0.8);
}

#[test]
fn refuses_bad_bytes_with_specific_errors() {
    let (spec, base, update) = sample();
    let limits = limits(&spec, &base);
    let good = update.encode(Encoding::default());
    let mut bytes = good.clone();
    bytes[0] = b'X';
    assert!(matches!(
        Update::decode(&bytes, &limits),
        Err(DecodeError::BadMagic(_))
    ));
    let mut bytes = good.clone();
    bytes[4] = 1;
    assert_eq!(
        Update::decode(&bytes, &limits),
        Err(DecodeError::UnsupportedVersion(1)),
        "version 1 carried no round key"
    );
    let mut bytes = good.clone();
    bytes[9] = 1;
    assert_eq!(
        Update::decode(&bytes, &limits),
        Err(DecodeError::ReservedBytes)
    );
    assert!(matches!(
        Update::decode(&good[..good.len() - 3], &limits),
        Err(DecodeError::Truncated { .. })
    ));
    let mut bytes = good.clone();
    bytes.push(0);
    assert_eq!(
        Update::decode(&bytes, &limits),
        Err(DecodeError::TrailingBytes(1))
    );
    let tight = DecodeLimits {
        max_bytes: 100,
        ..limits
    };
    assert!(matches!(
        Update::decode(&good, &tight),
        Err(DecodeError::TooLarge { .. })
    ));
    let mut nan = update.clone();
    nan.values[5] = f32::NAN;
    assert!(matches!(
        Update::decode(&nan.encode(Encoding::default()), &limits),
        Err(DecodeError::NonFinite(_))
    ));
    let other = Weights::initial(&spec, 2);
    let stale = Update {
        base_hash: Update::model_hash(&spec, &other),
        ..update.clone()
    };
    assert_eq!(
        Update::decode(&stale.encode(Encoding::default()), &limits),
        Err(DecodeError::BaseMismatch)
    );
    // The same training revealed in a twin round on the same base cannot be replayed here.
    let replayed = Update {
        round: [8; 32],
        ..update.clone()
    };
    assert_eq!(
        Update::decode(&replayed.encode(Encoding::default()), &limits),
        Err(DecodeError::RoundMismatch)
    );
    let cnn = ModelSpec::digits_cnn();
    let cnn_layout = Weights::layout_of(&cnn);
    let wrong = DecodeLimits {
        spec: Some((&cnn, &cnn_layout)),
        ..limits
    };
    assert_eq!(
        Update::decode(&good, &wrong),
        Err(DecodeError::SpecMismatch)
    );
    let mut reshaped = update.clone();
    reshaped.layout[0].shape = vec![32, 128];
    assert!(matches!(
        Update::decode(&reshaped.encode(Encoding::default()), &limits),
        Err(DecodeError::LayoutMismatch(msg)) if msg.contains("[32, 128]")
    ));
    let mut int8 = update.encode(Encoding {
        values: ValueEncoding::Int8,
        top_k: None,
    });
    let first_value = int8.len() - update.values.len();
    int8[first_value] = 0x80;
    assert!(matches!(
        Update::decode(&int8, &limits),
        Err(DecodeError::NonCanonical(_))
    ));
    let model = Update::model(&spec, &base).encode(Encoding::default());
    assert!(matches!(
        Update::decode(&model, &limits),
        Err(DecodeError::WrongPayload { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes never panic the decoder, and corrupting a valid update is always caught
    /// or yields a different, still well-formed update.
    #[test]
    fn decoder_is_total(noise in proptest::collection::vec(any::<u8>(), 0..400), flip in 0usize..20_000, bit in 0u8..8) {
        let (spec, base, update) = sample();
        let limits = limits(&spec, &base);
        let _ = Update::decode(&noise, &limits);
        let mut bytes = update.encode(Encoding { values: ValueEncoding::Int8, top_k: Some(0.5) });
        let at = flip % bytes.len();
        bytes[at] ^= 1 << bit;
        if let Ok(decoded) = Update::decode(&bytes, &limits) {
            prop_assert!(decoded.values.iter().all(|v| v.is_finite()));
        }
    }
}
