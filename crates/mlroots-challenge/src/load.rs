//! The only module that touches files: reading a challenge folder (`challenge.toml`,
//! `statement.md`, `solution/*.toml`), a catalogue folder of challenges, and the version lock.
//! Everything it reads goes through the pure parsers of the other modules.

use std::path::{Path, PathBuf};

use mlroots_learn::net::Net;

use crate::artefact::{Agent, PositionTable};
use crate::lock::{self, Lock, LockError};
use crate::run::{RunError, Solution};
use crate::spec::{self, Challenge, Diagnostic, SubChallenge};

/// The lock file's name, in the catalogue folder.
pub const LOCK_FILE: &str = "versions.lock";

/// The schema file's name, in the catalogue folder.
pub const SCHEMA_FILE: &str = "challenge.schema.json";

fn diagnostic(file: &Path, message: String) -> Diagnostic {
    Diagnostic { file: file.display().to_string(), line: 0, column: 0, message }
}

/// Reads and validates the challenge in folder `dir`.
pub fn challenge(dir: &Path) -> Result<Challenge, Vec<Diagnostic>> {
    let file = dir.join("challenge.toml");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| vec![diagnostic(&file, format!("cannot read it: {e}"))])?;
    let statement_path = dir.join("statement.md");
    let statement = std::fs::read_to_string(&statement_path).unwrap_or_default();
    let name = file.display().to_string();
    let mut problems = Vec::new();
    let mut result = spec::parse(&name, &text, statement);
    if let Ok(c) = &mut result {
        for sub in &mut c.subs {
            if let Err(message) = attach_agent(dir, sub) {
                problems.push(diagnostic(&file, format!("{}: {message}", sub.id)));
            }
        }
    }
    if let Ok(c) = &result {
        let folder = dir.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
        if c.id != folder {
            problems.push(diagnostic(
                &file,
                format!("id {:?} differs from its folder {folder:?}; they must match", c.id),
            ));
        }
        for kind in ["reference", "baseline"] {
            let path = dir.join("solution").join(format!("{kind}.toml"));
            let Ok(text) = std::fs::read_to_string(&path) else {
                problems.push(diagnostic(
                    &path,
                    format!("missing: every sub-challenge needs a {kind} solution"),
                ));
                continue;
            };
            for sub in &c.subs {
                if let Err(e) = Solution::from_toml(&text, &sub.id) {
                    problems.push(diagnostic(&path, e.to_string()));
                }
            }
        }
        let calibration = dir.join("solution").join("calibration.md");
        if !calibration.exists() {
            problems.push(diagnostic(&calibration, "missing: record the measured values of the reference and the baseline, the seeds and why each threshold".into()));
        }
    }
    match result {
        Ok(c) if problems.is_empty() => Ok(c),
        Ok(_) => Err(problems),
        Err(mut d) => {
            d.extend(problems);
            Err(d)
        }
    }
}

/// Reads the shipped agent a levels sub-challenge names (a policy table, or safetensors
/// weights of its `arch`), from the challenge folder.
fn attach_agent(dir: &Path, sub: &mut SubChallenge) -> Result<(), String> {
    let Some(file) = sub.artefact.as_ref().and_then(|a| a.agent.clone()) else {
        return Ok(());
    };
    let path = dir.join(&file);
    if file.contains("..") || path.is_absolute() && !path.starts_with(dir) {
        return Err(format!("artefact.agent {file:?} must be a file inside the challenge folder"));
    }
    let agent = if file.ends_with(".safetensors") {
        let arch = sub.artefact.as_ref().and_then(|a| a.arch.clone()).ok_or_else(|| {
            format!("artefact.agent {file} is weights: give artefact.arch, its architecture")
        })?;
        if arch.state_len() > 0 {
            return Err(format!(
                "artefact.agent {file}: a shipped agent plays levels one step at a time without \
                 memory; give a feedforward architecture (mlp or cnn), not a gru"
            ));
        }
        Agent::Net(Net::load(arch, &path).map_err(|e| e.to_string())?)
    } else {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read the agent {}: {e}", path.display()))?;
        let env = sub.eval_env.make().map_err(|e| e.to_string())?;
        Agent::Table(
            PositionTable::parse(&text, &*env).map_err(|e| format!("{}: {e}", path.display()))?,
        )
    };
    sub.agent = Some(agent);
    Ok(())
}

/// The challenge folders under `root` (each subfolder with a `challenge.toml`), sorted.
pub fn challenge_dirs(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("challenge.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Every challenge under `root`, or every problem found.
pub fn catalogue(root: &Path) -> Result<Vec<Challenge>, Vec<Diagnostic>> {
    let dirs = challenge_dirs(root)
        .map_err(|e| vec![diagnostic(root, format!("cannot list the catalogue: {e}"))])?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for d in dirs {
        match challenge(&d) {
            Ok(c) => out.push(c),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// The lock of the catalogue at `root` (empty when the file does not exist yet).
pub fn read_lock(root: &Path) -> Result<Lock, LockError> {
    match std::fs::read_to_string(root.join(LOCK_FILE)) {
        Ok(text) => lock::parse_lock(&text),
        Err(_) => Ok(Lock::new()),
    }
}

/// The solution `kind` (`reference`, `baseline`) of `sub` in challenge folder `dir`.
pub fn solution(dir: &Path, kind: &str, sub: &str) -> Result<Solution, RunError> {
    let path = dir.join("solution").join(format!("{kind}.toml"));
    let text = std::fs::read_to_string(&path)
        .map_err(|e| RunError::Solution(format!("cannot read {}: {e}", path.display())))?;
    let solution = Solution::from_toml(&text, sub)
        .map_err(|e| RunError::Solution(format!("{}: {e}", path.display())))?;
    match solution {
        Solution::WeightsFile { file, .. } => {
            if file.contains("..") || Path::new(&file).is_absolute() {
                return Err(RunError::Solution(format!(
                    "{}: {sub}: the weights file {file:?} must be inside the challenge folder",
                    path.display()
                )));
            }
            let bytes = std::fs::read(dir.join(&file)).map_err(|e| {
                RunError::Solution(format!("{}: {sub}: cannot read {file}: {e}", path.display()))
            })?;
            Ok(Solution::Weights { bytes })
        }
        other => Ok(other),
    }
}
