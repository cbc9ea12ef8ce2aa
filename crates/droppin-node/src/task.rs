//! A round's task: the manifest stored under the round's task CID, checked against it, with the
//! model and the recipe it pins.

use droppin_fl::data::{Dataset, Partition, Split, partition, task_split};
use droppin_fl::sim::SimData;
use droppin_fl::{FlError, model::ModelSpec, train::TrainConfig};
use droppin_interface::{Cid, state::Round};
use droppin_storage::interface_cid;
use droppin_task::{Manifest, TaskError};

/// Why a round's task cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TaskLoadError {
    /// The bytes fetched are not the ones the round names.
    #[error("the task's bytes do not hash to the round's task CID")]
    HashMismatch,
    /// The manifest does not parse or check.
    #[error("the round's task manifest is invalid: {0}")]
    Invalid(#[from] TaskError),
    /// The bytes parse, but are not the manifest's canonical encoding, so its CID is another.
    #[error("the round's task manifest is not in its canonical encoding")]
    NotCanonical,
    /// The engine cannot build the manifest's model.
    #[error("the round's task cannot train here: {0}")]
    Engine(#[from] FlError),
    /// The task ships no data, so no validator holds a validation set for it.
    #[error("task `{0}` ships no data, so no committee holds a validation set for it")]
    NoValidationSet(String),
    /// The round pins a validation set other than the one the task's shipped data gives.
    #[error(
        "the round pins another validation set than task `{0}`'s shipped one, so no committee can judge it"
    )]
    ForeignValidationSet(String),
}

/// A task as a round pins it: the manifest, its CID and the model it builds.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundTask {
    /// The manifest's CID (what the round stores).
    pub cid: Cid,
    pub manifest: Manifest,
    /// The model the manifest's layers build.
    pub spec: ModelSpec,
}

impl RoundTask {
    /// A manifest checked, its model built and its CID worked out: what a funder publishes.
    pub fn new(manifest: Manifest) -> Result<Self, TaskLoadError> {
        let spec = droppin_fl::task::model_spec(&manifest)?;
        Ok(Self {
            cid: manifest.cid(),
            manifest,
            spec,
        })
    }

    /// The task stored under `cid`, from the bytes a node or validator fetched: they must hash
    /// to `cid` and be a valid manifest's canonical encoding.
    pub fn from_stored(bytes: &[u8], cid: &Cid) -> Result<Self, TaskLoadError> {
        if interface_cid(bytes) != *cid {
            return Err(TaskLoadError::HashMismatch);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| TaskLoadError::NotCanonical)?;
        let manifest = Manifest::parse(text)?;
        if manifest.canonical() != bytes {
            return Err(TaskLoadError::NotCanonical);
        }
        Self::new(manifest)
    }

    /// The bytes to store: the canonical encoding, whose CID is [`Self::cid`].
    pub fn bytes(&self) -> Vec<u8> {
        self.manifest.canonical()
    }

    /// The split a committee judges this task's rounds on: the task's shipped data gives the
    /// only validation set a validator holds, so a task shipping none cannot be judged.
    pub fn committee_split(&self) -> Result<Split, TaskLoadError> {
        let name = &self.manifest.name;
        Ok(task_split(&self.manifest)
            .ok_or_else(|| TaskLoadError::NoValidationSet(name.clone()))??)
    }

    /// [`Self::committee_split`], checked against the validation set `round` pins. A round
    /// pinning another set can never be judged: its committee votes the void verdict, which
    /// pays no node and leaves the funder every revealed update for the fee, so no node stakes
    /// on it.
    pub fn judged_split(&self, round: &Round) -> Result<Split, TaskLoadError> {
        let split = self.committee_split()?;
        if split.validation.hash() != round.validation_set_hash {
            return Err(TaskLoadError::ForeignValidationSet(
                self.manifest.name.clone(),
            ));
        }
        Ok(split)
    }

    /// The recipe's training configuration, seeded by the node.
    pub fn recipe(&self, seed: u64) -> TrainConfig {
        droppin_fl::task::train_config(&self.manifest.recipe, seed)
    }

    /// Shard `index` of `count` (IID) of the task's shipped training data, for a node that tries
    /// the task without data of its own; `None` when the task ships none. The public sample (the
    /// split's first tenth) is left out: the committee trains its reference update on it, so an
    /// update trained on it would be judged a retraining of public data and earn nothing.
    pub fn demo_shard(&self, index: usize, count: usize) -> Option<Result<Dataset, FlError>> {
        let split = task_split(&self.manifest)?;
        Some(split.and_then(|split| {
            let (_, private) = SimData::split_public(&split.train);
            let shards = partition(&private, count, Partition::Iid, DEMO_PARTITION_SEED)?;
            Ok(private.subset(&shards[index]))
        }))
    }
}

/// The seed of the demo shards' partition: fixed, so a node's shard is the same every time.
const DEMO_PARTITION_SEED: u64 = 7;

#[cfg(test)]
mod tests {
    use super::*;
    use droppin_task::catalog;

    #[test]
    fn a_stored_task_must_be_the_canonical_bytes_of_its_cid() {
        let task = RoundTask::new(catalog::get("breast-cancer").unwrap()).unwrap();
        let bytes = task.bytes();
        assert_eq!(RoundTask::from_stored(&bytes, &task.cid).unwrap(), task);
        let other = catalog::get("digits").unwrap().cid();
        assert!(matches!(
            RoundTask::from_stored(&bytes, &other),
            Err(TaskLoadError::HashMismatch)
        ));
        // The same manifest, pretty-printed: another CID, and refused under it.
        let pretty = task.manifest.pretty().into_bytes();
        assert!(matches!(
            RoundTask::from_stored(&pretty, &interface_cid(&pretty)),
            Err(TaskLoadError::NotCanonical)
        ));
        let junk = b"{\"name\": 3}".to_vec();
        let error = RoundTask::from_stored(&junk, &interface_cid(&junk)).unwrap_err();
        assert!(error.to_string().contains("name"), "{error}");
    }

    /// A demo shard never holds the public sample the committee's reference trains on, and the
    /// shards split the rest between them.
    #[test]
    fn demo_shards_leave_the_public_sample_out() {
        let task = RoundTask::new(catalog::get("breast-cancer").unwrap()).unwrap();
        let split = task_split(&task.manifest).unwrap().unwrap();
        let (public, private) = SimData::split_public(&split.train);
        let shards: Vec<Dataset> = (0..4)
            .map(|i| task.demo_shard(i, 4).unwrap().unwrap())
            .collect();
        assert_eq!(
            shards.iter().map(Dataset::len).sum::<usize>(),
            private.len()
        );
        let row = |data: &Dataset, i: usize| data.row(i).to_vec();
        let public_rows: Vec<Vec<f32>> = (0..public.len()).map(|i| row(&public, i)).collect();
        for shard in &shards {
            assert!((0..shard.len()).all(|i| !public_rows.contains(&row(shard, i))));
        }
        let mut own = catalog::get("breast-cancer").unwrap();
        own.name = "my-clinic".into();
        let own = RoundTask::new(own).unwrap();
        assert!(
            own.demo_shard(0, 4).is_none(),
            "a task without shipped data"
        );
    }

    /// A node stakes, and a validator judges, only where a committee can judge: on a round
    /// pinning the validation set the task's shipped data gives. Any other round is void and
    /// would hand its funder the revealed updates without paying for them.
    #[test]
    fn only_a_round_pinning_the_shipped_validation_set_is_judged() {
        let task = RoundTask::new(catalog::get("breast-cancer").unwrap()).unwrap();
        let validation = task.committee_split().unwrap().validation;
        let pinning = |hash| Round {
            validation_set_hash: hash,
            ..Round::default()
        };
        let judged = task.judged_split(&pinning(validation.hash())).unwrap();
        assert_eq!(judged.validation.hash(), validation.hash());
        let error = task.judged_split(&pinning([0x33; 32])).unwrap_err();
        assert!(matches!(error, TaskLoadError::ForeignValidationSet(_)));
        assert!(error.to_string().contains("breast-cancer"), "{error}");
        let mut own = catalog::get("breast-cancer").unwrap();
        own.name = "my-clinic".into();
        let own = RoundTask::new(own).unwrap();
        let error = own.judged_split(&pinning(validation.hash())).unwrap_err();
        assert!(
            matches!(error, TaskLoadError::NoValidationSet(_)),
            "{error}"
        );
        assert!(error.to_string().contains("my-clinic"), "{error}");
    }
}
