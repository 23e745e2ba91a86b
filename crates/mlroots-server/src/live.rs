//! The catalogue a running server can reload: [`LiveCatalogue`] holds the current
//! [`ChallengeCatalogue`] snapshot and the folder it came from.
//!
//! Why: an instructor edits challenge files while the platform runs. A reload re-reads the
//! folder, checks it as `mlroots lint` does (every file valid, the version lock agreeing, so
//! that scoring never changes under a version) and only then swaps the snapshot, under a
//! write lock held for one pointer assignment: a request sees the old catalogue or the new
//! one, never a mixture, and a failed reload leaves the old one serving. Requests and
//! environment threads read through the [`Catalogue`] trait, which takes the snapshot of the
//! moment; an open session keeps the sub-challenge description it was opened with.

use std::path::{Path, PathBuf};
use std::sync::RwLock;

use crate::catalogue::{
    ArtefactInfo, Catalogue, Counters, EpisodeResult, Hint, JudgedArtefact, MetricInfo,
    ReloadReport, SubChallengeInfo, Verdict,
};
use crate::challenges::{ChallengeCatalogue, LoadError, read_writeups};

/// The reloadable catalogue of a challenges folder.
pub struct LiveCatalogue {
    root: PathBuf,
    current: RwLock<ChallengeCatalogue>,
}

impl std::fmt::Debug for LiveCatalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCatalogue").field("root", &self.root).finish()
    }
}

/// Every problem of the catalogue folder `root`, as `mlroots lint` reports them (file, line,
/// column, message; then the version lock's disagreements), or the challenges when none.
pub fn lint(root: &Path) -> Result<Vec<mlroots_challenge::Challenge>, Vec<String>> {
    let challenges = mlroots_challenge::load::catalogue(root)
        .map_err(|diags| diags.iter().map(|d| d.to_string()).collect::<Vec<_>>())?;
    let lock_path = root.join(mlroots_challenge::load::LOCK_FILE);
    let lock = mlroots_challenge::load::read_lock(root)
        .map_err(|e| vec![format!("{}: {e}", lock_path.display())])?;
    let problems: Vec<String> = mlroots_challenge::lock::check(&challenges, &lock)
        .into_iter()
        .map(|e| format!("{}: {e}", lock_path.display()))
        .collect();
    if problems.is_empty() { Ok(challenges) } else { Err(problems) }
}

impl LiveCatalogue {
    /// Loads the catalogue under `root` (as [`ChallengeCatalogue::load`]).
    pub fn load(root: &Path, secret: Vec<u8>) -> Result<LiveCatalogue, LoadError> {
        let cat = ChallengeCatalogue::load(root, secret)?;
        Ok(LiveCatalogue { root: root.to_path_buf(), current: RwLock::new(cat) })
    }

    /// The snapshot being served.
    pub fn current(&self) -> ChallengeCatalogue {
        match self.current.read() {
            Ok(c) => c.clone(),
            // A writer panicked mid-assignment: the value is still a whole snapshot.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the folder; swaps the new snapshot in when it lints clean, else returns
    /// every problem and keeps serving the old one. The evaluation secret is kept.
    pub fn reload_now(&self) -> Result<ReloadReport, Vec<String>> {
        let challenges = lint(&self.root)?;
        let writeups = read_writeups(&self.root, &challenges);
        let report = ReloadReport {
            challenges: challenges.iter().map(|c| c.id.clone()).collect(),
            sub_challenges: challenges.iter().map(|c| c.subs.len()).sum(),
        };
        let next = ChallengeCatalogue::with_writeups(challenges, self.current().secret(), writeups)
            .map_err(|e| vec![e.to_string()])?;
        match self.current.write() {
            Ok(mut c) => *c = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
        tracing::info!(root = %self.root.display(), challenges = report.challenges.len(),
            sub_challenges = report.sub_challenges, "catalogue reloaded");
        Ok(report)
    }
}

impl Catalogue for LiveCatalogue {
    fn sub_challenge(&self, id: &str) -> Option<SubChallengeInfo> {
        self.current().sub_challenge(id)
    }
    fn eval_seed(&self, sub: &SubChallengeInfo, account: i64, attempt: i64, episode: u32) -> u64 {
        self.current().eval_seed(sub, account, attempt, episode)
    }
    fn judge(
        &self,
        sub: &SubChallengeInfo,
        eval: &[EpisodeResult],
        train: &Counters,
    ) -> Option<Verdict> {
        self.current().judge(sub, eval, train)
    }
    fn eval_env(&self, sub: &SubChallengeInfo) -> Option<(String, Vec<(String, String)>)> {
        self.current().eval_env(sub)
    }
    fn challenges(&self) -> Option<ChallengeCatalogue> {
        Some(self.current())
    }
    fn points(&self, sub: &SubChallengeInfo) -> u32 {
        self.current().points(sub)
    }
    fn hints(&self, sub: &SubChallengeInfo) -> Vec<Hint> {
        self.current().hints(sub)
    }
    fn challenge_of(&self, sub: &SubChallengeInfo) -> String {
        self.current().challenge_of(sub)
    }
    fn metric(&self, sub: &SubChallengeInfo) -> Option<MetricInfo> {
        self.current().metric(sub)
    }
    fn reload(&self) -> Option<Result<ReloadReport, Vec<String>>> {
        Some(self.reload_now())
    }
    fn artefact(&self, sub: &SubChallengeInfo) -> Option<ArtefactInfo> {
        self.current().artefact(sub)
    }
    fn judge_artefact(
        &self,
        sub: &SubChallengeInfo,
        account: i64,
        attempt: i64,
        bytes: &[u8],
    ) -> Result<JudgedArtefact, String> {
        self.current().judge_artefact(sub, account, attempt, bytes)
    }
    fn make_env(
        &self,
        env_id: &str,
        options: &[(&str, &str)],
    ) -> Result<Box<dyn mlroots_env::Env>, String> {
        self.current().make_env(env_id, options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every trait method has a default (for the stand-in catalogues), so a method the live
    /// catalogue forgets to forward answers the default instead: this walks the real
    /// catalogue's sub-challenges through both and compares what each method says.
    #[test]
    fn the_live_catalogue_answers_as_the_catalogue_it_serves() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../challenges");
        let live = LiveCatalogue::load(&root, vec![7; 32]).unwrap();
        let inner = live.current();
        let mut artefacts = 0;
        for ch in inner.challenges() {
            for s in &ch.subs {
                let id = format!("{}/{}", ch.id, s.id);
                let sub = inner.sub_challenge(&id).unwrap();
                assert_eq!(live.sub_challenge(&id), Some(sub.clone()), "{id}");
                assert_eq!(live.eval_env(&sub), inner.eval_env(&sub), "{id}");
                assert_eq!(live.eval_seed(&sub, 1, 2, 3), inner.eval_seed(&sub, 1, 2, 3), "{id}");
                assert_eq!(live.points(&sub), inner.points(&sub), "{id}");
                assert_eq!(live.hints(&sub), inner.hints(&sub), "{id}");
                assert_eq!(live.challenge_of(&sub), inner.challenge_of(&sub), "{id}");
                assert_eq!(live.metric(&sub), inner.metric(&sub), "{id}");
                assert_eq!(live.artefact(&sub), inner.artefact(&sub), "{id}");
                artefacts += usize::from(inner.artefact(&sub).is_some());
                let judged =
                    |c: &dyn Catalogue| c.judge_artefact(&sub, 1, 2, b"").map(|j| j.stored);
                assert_eq!(judged(&live), judged(&inner), "{id}");
                let made = |c: &dyn Catalogue| {
                    let opts: Vec<(&str, &str)> =
                        sub.options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    c.make_env(&sub.env_id, &opts).map(|e| e.id().to_string())
                };
                assert_eq!(made(&live), made(&inner), "{id}");
            }
        }
        assert!(artefacts > 0, "the catalogue has artefact sub-challenges to compare");
    }
}
