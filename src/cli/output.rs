//! `[output]`: checkpoints, compression of the result file and the times of the 2D snapshot
//! pictures. Read from the table the library keeps in [`mfg::config::Spec::output`], with
//! unknown keys and bad values reported as invalid input naming the key.

use mfg::config::{Config, Format, TimeKind};
use mfg::{Error, Result};
use serde::Deserialize;
use std::path::Path;

/// `[output]`: what `mfg solve` writes besides the result file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Write a checkpoint (current iterate and history) to the output file every this many
    /// outer iterations; 0 or absent: only the final result. `--checkpoint-every` overrides it.
    #[serde(default)]
    pub checkpoint_every: Option<usize>,
    /// Deflate level 0-9 of the field datasets in the HDF5 file, or `false` for none
    /// (default 4).
    #[serde(default)]
    pub compression: Option<Compression>,
    /// Times of the 2D snapshot plots (default: 0, T/3, 2T/3, T).
    #[serde(default)]
    pub snapshot_times: Option<Vec<f64>>,
}

/// `compression = 4` or `compression = false`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Compression {
    Level(u8),
    Enabled(bool),
}

impl OutputSpec {
    /// The `[output]` table of `cfg`, checked (snapshot times within its horizon).
    pub fn of(cfg: &Config) -> Result<Self> {
        let spec = match &cfg.spec.output {
            None => OutputSpec::default(),
            Some(table) => table
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| Error::invalid("output", e.message().trim()))?,
        };
        spec.validate(cfg.spec.time.horizon)?;
        if cfg.spec.time.kind == TimeKind::Stationary {
            for (key, given, why) in [
                (
                    "checkpoint_every",
                    spec.checkpoint_every.is_some(),
                    "a stationary solve writes no checkpoints",
                ),
                (
                    "snapshot_times",
                    spec.snapshot_times.is_some(),
                    "a stationary problem has no time levels to snapshot",
                ),
                (
                    "compression",
                    spec.compression.is_some(),
                    "stationary fields (one value per node) are stored uncompressed",
                ),
            ] {
                if given {
                    return Err(Error::invalid(
                        format!("output.{key}"),
                        format!("{why}: remove the key"),
                    ));
                }
            }
        }
        Ok(spec)
    }

    /// The `[output]` table of a configuration stored in a result file, read alone (so that a
    /// configuration written for another version of the other tables still gives its snapshot
    /// times); `None` when it is absent or unreadable.
    pub fn stored(text: &str, format: Format) -> Option<Self> {
        #[derive(Deserialize)]
        struct OutputOnly {
            #[serde(default)]
            output: Option<toml::Table>,
        }
        let table = format
            .parse::<OutputOnly>(text, Path::new("@config"))
            .ok()?
            .output?;
        table.try_into().ok()
    }

    /// Checks the values.
    pub fn validate(&self, horizon: Option<f64>) -> Result<()> {
        if let Some(Compression::Level(l)) = self.compression {
            if l > 9 {
                return Err(Error::invalid(
                    "output.compression",
                    format!("{l}: the deflate level lies in 0..=9 (or false for none)"),
                ));
            }
        }
        if let Some(Compression::Enabled(true)) = self.compression {
            return Err(Error::invalid(
                "output.compression",
                "true: give a deflate level 0..=9, or false for none",
            ));
        }
        if let (Some(times), Some(horizon)) = (&self.snapshot_times, horizon) {
            if let Some(t) = times
                .iter()
                .find(|t| !(t.is_finite() && **t >= 0.0 && **t <= horizon))
            {
                return Err(Error::invalid(
                    "output.snapshot_times",
                    format!("{t}: times must lie in [0, {horizon}]"),
                ));
            }
        }
        Ok(())
    }

    /// The deflate level of the field datasets (`None`: uncompressed).
    pub fn deflate_level(&self) -> Option<u8> {
        match self.compression {
            None => Some(4),
            Some(Compression::Level(l)) => Some(l),
            Some(Compression::Enabled(_)) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[grid]
x = { min = 0.0, max = 1.0, n = 20 }
[time]
horizon = 1.0
steps = 10
[[population]]
name = "a"
sigma = 0.3
initial = 1
"#;

    fn output(table: &str) -> Result<OutputSpec> {
        OutputSpec::of(&Config::from_toml_str(&format!("{BASE}[output]\n{table}\n")).unwrap())
    }

    #[test]
    fn values_are_read_and_checked() {
        let o = output("checkpoint_every = 3\ncompression = 0\nsnapshot_times = [0.5]").unwrap();
        assert_eq!(o.checkpoint_every, Some(3));
        assert_eq!(o.deflate_level(), Some(0));
        assert_eq!(o.snapshot_times, Some(vec![0.5]));
        assert_eq!(output("compression = false").unwrap().deflate_level(), None);
        let none = OutputSpec::of(&Config::from_toml_str(BASE).unwrap()).unwrap();
        assert_eq!(none, OutputSpec::default());
        assert_eq!(none.deflate_level(), Some(4));
        for (table, field) in [
            ("compression = 12", "output.compression"),
            ("compression = true", "output.compression"),
            ("snapshot_times = [2.0]", "output.snapshot_times"),
        ] {
            let e = output(table).unwrap_err().to_string();
            assert!(e.contains(&format!("invalid {field}:")), "{e}");
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let e = output("checkpoint_evry = 3").unwrap_err().to_string();
        assert!(
            e.starts_with("invalid output:") && e.contains("checkpoint_evry"),
            "{e}"
        );
    }

    #[test]
    fn stored_output_is_read_alone() {
        // Keys of other tables that this version refuses do not hide the snapshot times.
        let text = "[solver]\nrelaxation = 0.5\n[output]\nsnapshot_times = [0.25]\n";
        let o = OutputSpec::stored(text, Format::Toml).unwrap();
        assert_eq!(o.snapshot_times, Some(vec![0.25]));
        let yaml = "output:\n  snapshot_times: [0.5, 1.0]\n";
        let o = OutputSpec::stored(yaml, Format::Yaml).unwrap();
        assert_eq!(o.snapshot_times, Some(vec![0.5, 1.0]));
        assert_eq!(OutputSpec::stored("title = \"t\"\n", Format::Toml), None);
    }
}
