//! A manifest's parts in words, as `dpin task show` prints them and the order form and the node
//! page show them.

use crate::manifest::{
    Column, DataSchema, ImageLabels, Metric, Missing, Optimizer, Recipe, Validation, Vocabulary,
};

impl DataSchema {
    /// The data a node brings, in one sentence.
    pub fn summary(&self) -> String {
        match self {
            DataSchema::Images {
                channels,
                height,
                width,
                classes,
                labels,
            } => format!(
                "{width}x{height} images, {channels} channel(s), {} classes ({}), each labelled by {}",
                classes.len(),
                classes.join(", "),
                match labels {
                    ImageLabels::Folder => "the folder it is in (or its name)",
                    ImageLabels::Csv => "a `file,label` CSV beside the images",
                }
            ),
            DataSchema::Tabular {
                columns,
                label,
                classes,
                missing,
            } => {
                let kinds: Vec<String> = columns
                    .iter()
                    .map(|c| match c {
                        Column::Numeric { name } => name.clone(),
                        Column::Categorical { name, values } => {
                            format!("{name} ({})", values.join("|"))
                        }
                    })
                    .collect();
                format!(
                    "a CSV with columns {}; the label column `{label}` holds {}; {}",
                    kinds.join(", "),
                    classes.join(" or "),
                    match missing {
                        Missing::DropRow => "a row with a missing value is left out",
                        Missing::Mean => "a missing value becomes its column's mean",
                    }
                )
            }
            DataSchema::Text {
                vocabulary,
                context,
            } => format!(
                "a text file, {context} tokens of context, {}",
                match vocabulary {
                    Vocabulary::Bytes => "one token per byte".to_string(),
                    Vocabulary::Characters { alphabet } =>
                        format!("one token per character of {alphabet:?}, one for any other"),
                }
            ),
        }
    }
}

impl Recipe {
    /// How nodes train, in one line.
    pub fn summary(&self) -> String {
        let optimizer = match self.optimizer {
            Optimizer::Adam => "Adam".to_string(),
            Optimizer::Sgd { momentum } => format!("SGD, momentum {momentum}"),
        };
        format!(
            "{optimizer}, learning rate {}, {} epoch(s), batches of {}, FedProx {}{}",
            self.learning_rate,
            self.epochs,
            self.batch_size,
            self.proximal_mu,
            self.privacy
                .map(|p| format!(
                    ", DP-SGD to epsilon {} (delta {}, clip {})",
                    p.epsilon, p.delta, p.clip
                ))
                .unwrap_or_default()
        )
    }
}

impl Validation {
    /// How the committee judges, in one line.
    pub fn summary(&self) -> String {
        format!(
            "{}; a tenth of an update may raise the loss by at most {} nat(s)",
            match self.metric {
                Metric::Accuracy => "accuracy",
                Metric::Perplexity => "perplexity",
            },
            self.max_loss_increase
        )
    }
}
