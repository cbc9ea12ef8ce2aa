//! A text task's data: a text cut into windows of the task's context, each labelled with the
//! token that follows it.

use droppin_task::Vocabulary;

use super::Dataset;
use crate::FlError;

/// Cuts `text` into back-to-back windows of `context` tokens; each window's label is the token
/// after it, so a text model learns the next token at every position (the window shifted by
/// one, then the label: [`Dataset::targets`]). Token ids are stored as features.
pub fn read_text(vocabulary: &Vocabulary, context: usize, text: &str) -> Result<Dataset, FlError> {
    let tokens = vocabulary.encode(text);
    if context == 0 || tokens.len() <= context {
        return Err(FlError::Data(format!(
            "a text of {} tokens holds no window of {context} tokens and the one after",
            tokens.len()
        )));
    }
    let windows = (tokens.len() - 1) / context;
    let mut features = Vec::with_capacity(windows * context);
    let mut labels = Vec::with_capacity(windows);
    for window in 0..windows {
        let start = window * context;
        features.extend(tokens[start..start + context].iter().map(|&t| f32::from(t)));
        labels.push(u8::try_from(tokens[start + context]).map_err(|_| {
            FlError::Data("a vocabulary of more than 256 tokens does not fit a label".into())
        })?);
    }
    Dataset::new(features, labels, vec![context], vocabulary.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_labelled_with_the_next_token() {
        let vocabulary = Vocabulary::Characters {
            alphabet: "ab".into(),
        };
        let data = read_text(&vocabulary, 3, "abba?ab").unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.row(0), &[0.0, 1.0, 1.0]);
        assert_eq!(
            data.labels,
            vec![0, 1],
            "after `abb` comes `a`; after `a?a`, `b`"
        );
        assert_eq!(
            data.row(1),
            &[0.0, 2.0, 0.0],
            "an unlisted character is the last token"
        );
        assert_eq!(data.targets(0, 3).collect::<Vec<_>>(), vec![1, 1, 0]);
        assert!(read_text(&vocabulary, 8, "ab").is_err());
    }
}
