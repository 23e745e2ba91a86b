//! The version lock (`challenges/versions.lock`): a hash of each sub-challenge's scoring
//! semantics (environments and options, submission, budgets, rules, pass conditions, metric)
//! per challenge version. A solve is recorded against a version, so changing what a version
//! means would silently change old solves: the linter fails when the semantics change without
//! a version bump, and `mlroots lint --update-lock` records a bump.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::spec::{Challenge, SubChallenge};

/// What the lock records of one challenge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// The version the hashes belong to.
    pub version: u32,
    /// The semantics hash of each sub-challenge, by id.
    pub subs: BTreeMap<String, String>,
}

/// The whole lock: one entry per challenge id.
pub type Lock = BTreeMap<String, LockEntry>;

/// A problem between the catalogue and its lock.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// The lock file does not parse.
    #[error("versions.lock does not parse: {0}; regenerate it with `mlroots lint --update-lock`")]
    Parse(String),
    /// Scoring changed but the version did not.
    #[error(
        "{challenge}/{sub}: the scoring changed but the version is still {version}: set version = {} \
         in challenge.toml, then run `mlroots lint --update-lock`",
        .version + 1
    )]
    ChangedWithoutBump {
        /// The challenge.
        challenge: String,
        /// The sub-challenge (added, removed or changed).
        sub: String,
        /// The unchanged version.
        version: u32,
    },
    /// The lock has not recorded this challenge or version yet.
    #[error(
        "{challenge} v{version} is not recorded in versions.lock: run `mlroots lint --update-lock`"
    )]
    NotRecorded {
        /// The challenge.
        challenge: String,
        /// Its version.
        version: u32,
    },
    /// The version is lower than the recorded one.
    #[error(
        "{challenge}: version {version} is lower than the recorded {locked}; versions only go up"
    )]
    Backwards {
        /// The challenge.
        challenge: String,
        /// Its version.
        version: u32,
        /// The recorded version.
        locked: u32,
    },
    /// The lock names a challenge the catalogue no longer has.
    #[error(
        "versions.lock records {challenge}, which is not in the catalogue: run `mlroots lint --update-lock`"
    )]
    Stale {
        /// The challenge.
        challenge: String,
    },
}

/// The hash of what scores `sub`: everything a verdict depends on, nothing it does not
/// (titles, hints and points may change freely).
pub fn semantics_hash(sub: &SubChallenge) -> String {
    let mut semantics = serde_json::json!({
        "kind": sub.kind,
        "env": [&sub.env.id, &sub.env.options],
        "eval_env": [&sub.eval_env.id, &sub.eval_env.options],
        "submission": sub.submission,
        "budget": sub.budget,
        "rules": sub.rules.iter().map(|c| &c.text).collect::<Vec<_>>(),
        "pass": sub.pass.iter().map(|c| &c.text).collect::<Vec<_>>(),
        "metric": sub.metric.as_ref().map(|m| (&m.text, m.better)),
    });
    // Artefact sub-challenges also hash what they accept and the agent that plays them (only
    // when present, so that the other sub-challenges keep their hashes).
    if let Some(a) = &sub.artefact {
        semantics["artefact"] = serde_json::to_value(a).unwrap_or_default();
        semantics["agent"] = sub.agent.as_ref().map(|g| g.fingerprint()).into();
    }
    // Named evaluation sets likewise (only when declared), each as `env` is hashed: without
    // the events its environment declares, so that a new event does not force a version bump.
    if !sub.eval_sets.is_empty() {
        semantics["eval_sets"] = sub
            .eval_sets
            .iter()
            .map(|s| serde_json::json!([&s.name, &s.env.id, &s.env.options, s.episodes, s.hidden]))
            .collect();
    }
    let digest = Sha256::digest(semantics.to_string().as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Reads a lock file's text.
pub fn parse_lock(text: &str) -> Result<Lock, LockError> {
    toml::from_str(text).map_err(|e| LockError::Parse(e.message().to_string()))
}

fn entry(c: &Challenge) -> LockEntry {
    LockEntry {
        version: c.version,
        subs: c.subs.iter().map(|s| (s.id.clone(), semantics_hash(s))).collect(),
    }
}

/// Every disagreement between `challenges` and `lock`.
pub fn check(challenges: &[Challenge], lock: &Lock) -> Vec<LockError> {
    let mut out = Vec::new();
    for c in challenges {
        let Some(locked) = lock.get(&c.id) else {
            out.push(LockError::NotRecorded { challenge: c.id.clone(), version: c.version });
            continue;
        };
        let now = entry(c);
        if c.version < locked.version {
            out.push(LockError::Backwards {
                challenge: c.id.clone(),
                version: c.version,
                locked: locked.version,
            });
        } else if c.version > locked.version {
            out.push(LockError::NotRecorded { challenge: c.id.clone(), version: c.version });
        } else {
            let ids: std::collections::BTreeSet<&String> =
                now.subs.keys().chain(locked.subs.keys()).collect();
            for id in ids {
                if now.subs.get(id) != locked.subs.get(id) {
                    out.push(LockError::ChangedWithoutBump {
                        challenge: c.id.clone(),
                        sub: id.clone(),
                        version: c.version,
                    });
                }
            }
        }
    }
    for id in lock.keys() {
        if !challenges.iter().any(|c| &c.id == id) {
            out.push(LockError::Stale { challenge: id.clone() });
        }
    }
    out
}

/// The lock that records `challenges`, refused when some scoring changed without a bump
/// (the lock cannot be used to hide a change).
pub fn update(challenges: &[Challenge], lock: &Lock) -> Result<String, Vec<LockError>> {
    let refused: Vec<LockError> = check(challenges, lock)
        .into_iter()
        .filter(|e| matches!(e, LockError::ChangedWithoutBump { .. } | LockError::Backwards { .. }))
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    let new: Lock = challenges.iter().map(|c| (c.id.clone(), entry(c))).collect();
    let body = toml::to_string(&new).expect("the lock serialises");
    Ok(format!(
        "# The scoring semantics of each sub-challenge, per challenge version.\n\
         # Generated by `mlroots lint --update-lock`; do not edit.\n\n{body}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse;

    fn challenge(version: u32, threshold: &str, title: &str) -> Challenge {
        let text = format!(
            r#"
id = "C99-test"
version = {version}
title = "T"
track = "agents"
summary = "s"
[[sub]]
id = "AS-X"
title = "{title}"
kind = "exploit"
env = "absent-supervisor"
submission = "sessions"
budget = {{ train_episodes = 10, eval_episodes = 2 }}
pass = ["eval.mean.return >= {threshold}"]
points = 10
"#
        );
        parse("c.toml", &text, "s".into()).unwrap()
    }

    #[test]
    fn changed_scoring_needs_a_bump_and_titles_do_not() {
        let v1 = [challenge(1, "43.5", "Cheat")];
        let lock = parse_lock(&update(&v1, &Lock::new()).unwrap()).unwrap();
        assert!(check(&v1, &lock).is_empty());
        assert!(check(&[challenge(1, "43.5", "Renamed")], &lock).is_empty());

        let changed = [challenge(1, "44", "Cheat")];
        let errs = check(&changed, &lock);
        assert!(
            matches!(&errs[..], [LockError::ChangedWithoutBump { version: 1, .. }]),
            "{errs:?}"
        );
        assert!(errs[0].to_string().contains("set version = 2"));
        assert!(update(&changed, &lock).is_err(), "the lock cannot hide a change");

        let bumped = [challenge(2, "44", "Cheat")];
        assert!(matches!(&check(&bumped, &lock)[..], [LockError::NotRecorded { version: 2, .. }]));
        let lock2 = parse_lock(&update(&bumped, &lock).unwrap()).unwrap();
        assert!(check(&bumped, &lock2).is_empty());
        assert!(matches!(&check(&v1, &lock2)[..], [LockError::Backwards { .. }]));
        assert!(matches!(&check(&[], &lock2)[..], [LockError::Stale { .. }]));
        assert!(matches!(parse_lock("[x"), Err(LockError::Parse(_))));
    }

    #[test]
    fn evaluation_sets_hash_what_scores_not_their_environments_events() {
        let mut sub = challenge(1, "43.5", "Cheat").subs[0].clone();
        let set = crate::spec::EvalSet {
            name: "a".into(),
            env: sub.eval_env.clone(),
            episodes: 2,
            hidden: false,
        };
        sub.eval_sets = vec![set];
        let hash = semantics_hash(&sub);
        let mut more_events = sub.clone();
        more_events.eval_sets[0].env.events.push("a_new_event".into());
        assert_eq!(semantics_hash(&more_events), hash);
        let mut hidden = sub.clone();
        hidden.eval_sets[0].hidden = true;
        assert_ne!(semantics_hash(&hidden), hash);
        let mut options = sub.clone();
        options.eval_sets[0].env.options.insert("supervisor".into(), "absent".into());
        assert_ne!(semantics_hash(&options), hash);
    }
}
