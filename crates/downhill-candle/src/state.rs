//! Optimizer state as safetensors: one tensor per state buffer
//! (`state.G.NAME`, `state.G.extra`) and a `meta` tensor of UTF-8 JSON with
//! the rest (rules, shapes, step counts, scalars, variable names, schedules).

use crate::elem::Elem;
use crate::step::Core;
use crate::{Inner, Optimizer};
use candle_core::{Device, Result, Tensor, WithDType};
use downhill_optim::{SavedState, StateError};
use downhill_schedule::Scheduler;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The `format` of every state file this crate writes.
pub const FORMAT: &str = "downhill-candle-state";

#[derive(Serialize, Deserialize)]
struct Meta<T> {
    format: String,
    names: Vec<String>,
    /// Every buffer empty: the values are the tensors.
    state: SavedState<T>,
    schedulers: Vec<String>,
}

fn error(message: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::Msg(message.to_string())
}

fn key(group: usize, buffer: &str) -> String {
    format!("state.{group}.{buffer}")
}

impl Optimizer {
    /// Writes the state to a safetensors file at `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        candle_core::safetensors::save(&self.to_tensors()?, path)
    }

    /// Restores a state written by [`save`](Self::save) for the same
    /// variables (names, shapes), rules and element type; on error nothing changes.
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)?;
        self.from_tensors(&tensors)
    }

    /// The state as named tensors (what [`save`](Self::save) writes).
    pub fn to_tensors(&self) -> Result<HashMap<String, Tensor>> {
        let schedulers = self
            .schedulers
            .iter()
            .map(Scheduler::to_json)
            .collect::<std::result::Result<_, _>>()
            .map_err(error)?;
        match &self.core {
            Inner::F32(c) => save_core(c, &self.names, schedulers),
            Inner::F64(c) => save_core(c, &self.names, schedulers),
        }
    }

    /// Restores the state from named tensors; on error nothing changes.
    pub fn from_tensors(&mut self, tensors: &HashMap<String, Tensor>) -> Result<()> {
        let text = tensors
            .get("meta")
            .ok_or_else(|| error("not a downhill-candle optimizer state: no 'meta' tensor"))?
            .to_vec1::<u8>()?;
        let text =
            String::from_utf8(text).map_err(|_| error("optimizer state 'meta' is not UTF-8"))?;
        let schedulers = match &mut self.core {
            Inner::F32(c) => load_core(c, &self.names, self.schedulers.len(), &text, tensors)?,
            Inner::F64(c) => load_core(c, &self.names, self.schedulers.len(), &text, tensors)?,
        };
        self.schedulers = schedulers;
        Ok(())
    }
}

fn save_core<T: Elem + WithDType + Serialize>(
    core: &Core<T>,
    names: &[String],
    schedulers: Vec<String>,
) -> Result<HashMap<String, Tensor>> {
    let mut state = core.opt.save().map_err(error)?;
    let mut tensors = HashMap::new();
    for (g, group) in state.groups.iter_mut().enumerate() {
        for (name, values) in &mut group.buffers {
            let values = std::mem::take(values);
            tensors.insert(
                key(g, name),
                Tensor::from_vec(values.clone(), values.len(), &Device::Cpu)?,
            );
        }
        let extra = std::mem::take(&mut group.extra);
        if !extra.is_empty() {
            tensors.insert(
                key(g, "extra"),
                Tensor::from_vec(extra.clone(), extra.len(), &Device::Cpu)?,
            );
        }
    }
    let meta = Meta {
        format: FORMAT.into(),
        names: names.to_vec(),
        state,
        schedulers,
    };
    let text = serde_json::to_vec(&meta).map_err(error)?;
    let len = text.len();
    tensors.insert("meta".into(), Tensor::from_vec(text, len, &Device::Cpu)?);
    Ok(tensors)
}

/// Loads into `core` and returns the restored schedulers; checks everything first.
fn load_core<T: Elem + WithDType + DeserializeOwned>(
    core: &mut Core<T>,
    names: &[String],
    schedules: usize,
    text: &str,
    tensors: &HashMap<String, Tensor>,
) -> Result<Vec<Scheduler>> {
    let meta: Meta<T> = serde_json::from_str(text)
        .map_err(|e| error(format!("optimizer state does not match: {e}")))?;
    if meta.format != FORMAT {
        return Err(error(format!(
            "not a downhill-candle optimizer state (format '{}', expected '{FORMAT}')",
            meta.format
        )));
    }
    if meta.names != names {
        return Err(error(format!(
            "optimizer state is for variables {:?}, this optimizer steps {names:?}",
            meta.names
        )));
    }
    if meta.schedulers.len() != schedules {
        return Err(error(format!(
            "optimizer state has {} schedules, this optimizer {schedules}",
            meta.schedulers.len()
        )));
    }
    let mut state = meta.state;
    for (g, group) in state.groups.iter_mut().enumerate() {
        for (name, values) in &mut group.buffers {
            *values = read(tensors, &key(g, name))?;
        }
        if tensors.contains_key(&key(g, "extra")) {
            group.extra = read(tensors, &key(g, "extra"))?;
        }
    }
    let schedulers = meta
        .schedulers
        .iter()
        .map(|s| Scheduler::from_json(s).map_err(error))
        .collect::<Result<Vec<_>>>()?;
    core.opt.load(state).map_err(|e: StateError| error(e))?;
    Ok(schedulers)
}

fn read<T: WithDType>(tensors: &HashMap<String, Tensor>, name: &str) -> Result<Vec<T>> {
    let tensor = tensors
        .get(name)
        .ok_or_else(|| error(format!("optimizer state has no tensor '{name}'")))?;
    if tensor.dtype() != T::DTYPE {
        return Err(error(format!(
            "optimizer state tensor '{name}' is {:?}, expected {:?}",
            tensor.dtype(),
            T::DTYPE
        )));
    }
    tensor.to_vec1::<T>()
}
