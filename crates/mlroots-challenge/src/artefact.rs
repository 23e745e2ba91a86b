//! Artefact judges: levels, mazes and weights, checked without running any of the learner's
//! code. A sub-challenge that takes artefacts declares in `[sub.artefact]` what it accepts
//! ([`ArtefactSpec`]): for levels and mazes the grammar (shape, characters, border, fixed
//! places, character counts and ratios, items in dead ends, pairwise Hamming distance,
//! distinct wall masks) and the shipped [`Agent`] that plays them; for weights the fixed
//! architecture. [`read_levels`] checks a submitted text and reports every problem with its
//! line and column; the environment's own parser (the eval environment's level option, such
//! as `distributional-shift`'s `map` or `crops-humans`' `maze`) then checks what only the world
//! knows (solvability by breadth-first search). [`check_weights`] reads safetensors with strict
//! bounds into a plain-Rust [`Net`] (metadata dropped). Pure: the caller reads files.

use std::collections::BTreeMap;

use mlroots_env::{Action, Env};
use mlroots_learn::net::{Arch, Net};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The most bytes a levels or mazes submission may have unless the sub-challenge says.
pub const DEFAULT_MAX_LEVEL_BYTES: u64 = 64 * 1024;
/// The most bytes a weights submission may have unless the sub-challenge says.
pub const DEFAULT_MAX_WEIGHT_BYTES: u64 = 4 * 1024 * 1024;
/// At most this many problems are reported for one submission.
pub const MAX_PROBLEMS: usize = 50;

/// What an artefact sub-challenge accepts, as written in `[sub.artefact]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtefactSpec {
    /// Levels and mazes: the eval environment's option that reads one level (`map`, `maze`).
    #[serde(default)]
    pub option: Option<String>,
    /// Levels and mazes: `[rows, columns]` of every level.
    #[serde(default)]
    pub shape: Option<[usize; 2]>,
    /// Levels and mazes: every character a level may hold.
    #[serde(default)]
    pub chars: Option<String>,
    /// Levels and mazes: the character every border cell must be (none: no border rule).
    #[serde(default)]
    pub border: Option<String>,
    /// Levels and mazes: characters that must appear exactly once, at `[row, column]` (from 0).
    #[serde(default)]
    pub place: BTreeMap<String, [usize; 2]>,
    /// Levels and mazes: `[least, most]` occurrences of a character in each level.
    #[serde(default)]
    pub counts: BTreeMap<String, [u32; 2]>,
    /// Levels and mazes: a ratio between two characters' counts in each level.
    #[serde(default)]
    pub ratio: Option<Ratio>,
    /// Levels and mazes: characters that may only sit in dead ends (at least three of the four
    /// neighbours a wall or outside the level).
    #[serde(default)]
    pub dead_ends: Option<String>,
    /// Levels and mazes: the wall character (for dead ends and wall masks; `#` by default).
    #[serde(default)]
    pub wall: Option<String>,
    /// Levels and mazes: the least number of cells in which any two levels differ.
    #[serde(default)]
    pub min_distance: u32,
    /// Levels and mazes: the least number of distinct wall layouts among the levels.
    #[serde(default)]
    pub min_distinct_walls: u32,
    /// Levels and mazes: the shipped agent that plays them, a file of the challenge folder (a
    /// policy table `.txt`, or `.safetensors` weights of `arch`).
    #[serde(default)]
    pub agent: Option<String>,
    /// Weights: the architecture submissions must have (for levels: the agent's).
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub arch: Option<Arch>,
    /// The most bytes a submission may have.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Weights: the most the submitted parameters may move away from the shipped network
    /// (`agent`, the same architecture), as `‖θ − θ₀‖₂ / ‖θ₀‖₂` over all parameters: a repair
    /// within a budget, not a network trained anew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_relative_change: Option<f64>,
}

/// `of` must occur at least `at_least` times as often as `to` in each level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ratio {
    /// The counted character.
    pub of: String,
    /// The character it is compared with.
    pub to: String,
    /// The least ratio.
    pub at_least: f64,
}

/// One problem of a submission: where (line and column from 1; 0 when it has no place) and
/// what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The line, from 1 (0: the whole submission).
    pub line: usize,
    /// The column, from 1.
    pub column: usize,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
        }
    }
}

/// Why a submission is refused: every problem found (at most [`MAX_PROBLEMS`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ArtefactError {
    /// The problems, in the order of the text.
    pub problems: Vec<Problem>,
}

impl ArtefactError {
    fn whole(message: impl Into<String>) -> Self {
        ArtefactError { problems: vec![Problem { line: 0, column: 0, message: message.into() }] }
    }
}

fn one_char(s: &Option<String>, default: char) -> char {
    s.as_deref().and_then(|s| s.chars().next()).unwrap_or(default)
}

fn chars_of(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn show(c: char) -> String {
    format!("{c:?}")
}

/// A level that passed every check: its rows, the line it starts on, and the text the
/// environment's level option reads (rows joined by `/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedLevel {
    /// The line of its first row, from 1.
    pub line: usize,
    /// Its rows.
    pub rows: Vec<String>,
    /// The environment option's value.
    pub option_text: String,
}

struct Problems(Vec<Problem>);

impl Problems {
    fn at(&mut self, line: usize, column: usize, message: String) {
        if self.0.len() < MAX_PROBLEMS {
            self.0.push(Problem { line, column, message });
        }
    }
}

/// Splits `text` into levels (blocks of rows separated by blank lines), each with the line
/// of its first row. Carriage returns and trailing spaces of a row are dropped.
fn blocks(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out: Vec<(usize, Vec<String>)> = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let row = raw.trim_end_matches(['\r', ' ', '\t']);
        if row.trim().is_empty() {
            out.extend(current.take());
        } else {
            current.get_or_insert_with(|| (i + 1, Vec::new())).1.push(row.to_string());
        }
    }
    out.extend(current);
    out
}

/// Builds the eval environment with one level (the option's text), or says why not.
pub type MakeLevel<'a> = dyn Fn(&str) -> Result<Box<dyn Env>, String> + 'a;

/// Checks a levels (or mazes) submission against `spec` and the eval environment `make`
/// (which builds the environment with one level as its option), expecting exactly `count`
/// levels. Every problem is reported with its line and column.
pub fn read_levels(
    spec: &ArtefactSpec,
    text: &str,
    count: u32,
    make: &MakeLevel<'_>,
) -> Result<Vec<CheckedLevel>, ArtefactError> {
    let max = spec.max_bytes.unwrap_or(DEFAULT_MAX_LEVEL_BYTES);
    if text.len() as u64 > max {
        return Err(ArtefactError::whole(format!(
            "the submission has {} bytes; at most {max} are accepted",
            text.len()
        )));
    }
    let [height, width] = spec.shape.unwrap_or([0, 0]);
    let allowed: Option<Vec<char>> = spec.chars.as_deref().map(chars_of);
    let border = spec.border.as_deref().and_then(|b| b.chars().next());
    let wall = one_char(&spec.wall, '#');
    let dead_end_chars: Vec<char> = spec.dead_ends.as_deref().map(chars_of).unwrap_or_default();
    let mut p = Problems(Vec::new());
    let levels = blocks(text);
    if levels.is_empty() {
        return Err(ArtefactError::whole(format!(
            "the submission holds no level; give {count} levels of {height} rows of {width} \
             characters, separated by blank lines"
        )));
    }
    let mut checked = Vec::new();
    for (n, (line, rows)) in levels.iter().enumerate() {
        let n = n + 1;
        let before = p.0.len();
        if rows.len() != height {
            p.at(
                *line,
                1,
                format!(
                    "level {n} has {} rows; each level has {height} rows of {width} characters, \
                     and levels are separated by one blank line",
                    rows.len()
                ),
            );
            continue;
        }
        let grid: Vec<Vec<char>> = rows.iter().map(|r| r.chars().collect()).collect();
        for (r, row) in grid.iter().enumerate() {
            if row.len() != width {
                p.at(
                    line + r,
                    row.len().min(width) + 1,
                    format!(
                        "level {n}, row {}: {} characters; each row has {width}",
                        r + 1,
                        row.len()
                    ),
                );
                continue;
            }
            for (c, &ch) in row.iter().enumerate() {
                if let Some(allowed) = &allowed
                    && !allowed.contains(&ch)
                {
                    let list: Vec<String> = allowed.iter().map(|&a| show(a)).collect();
                    p.at(
                        line + r,
                        c + 1,
                        format!(
                            "level {n}: {} is not allowed; allowed: {}",
                            show(ch),
                            list.join(", ")
                        ),
                    );
                }
                let on_border = r == 0 || c == 0 || r + 1 == height || c + 1 == width;
                if let Some(b) = border
                    && on_border
                    && ch != b
                {
                    p.at(
                        line + r,
                        c + 1,
                        format!(
                            "level {n}: {} on the border; the border is all {}",
                            show(ch),
                            show(b)
                        ),
                    );
                }
            }
        }
        if p.0.len() > before {
            continue;
        }
        let count_of = |ch: char| grid.iter().flatten().filter(|&&c| c == ch).count();
        for (key, &[row, col]) in &spec.place {
            let ch = key.chars().next().unwrap_or(' ');
            let found = grid.get(row).and_then(|r| r.get(col)).copied();
            if found != Some(ch) || count_of(ch) != 1 {
                p.at(
                    line + row,
                    col + 1,
                    format!(
                        "level {n}: exactly one {} is allowed, here (row {}, column {} of the \
                         level); found {} here and {} in the level",
                        show(ch),
                        row + 1,
                        col + 1,
                        found.map_or("nothing".into(), show),
                        count_of(ch)
                    ),
                );
            }
        }
        for (key, &[least, most]) in &spec.counts {
            let ch = key.chars().next().unwrap_or(' ');
            let got = count_of(ch) as u32;
            if got < least || got > most {
                p.at(
                    *line,
                    1,
                    format!(
                        "level {n} has {got} × {}; between {least} and {most} are required",
                        show(ch)
                    ),
                );
            }
        }
        if let Some(ratio) = &spec.ratio {
            let of = ratio.of.chars().next().unwrap_or(' ');
            let to = ratio.to.chars().next().unwrap_or(' ');
            let (a, b) = (count_of(of) as f64, count_of(to) as f64);
            if a < ratio.at_least * b {
                p.at(
                    *line,
                    1,
                    format!(
                        "level {n} has {a} × {} and {b} × {}; at least {} × {} per {} is required",
                        show(of),
                        show(to),
                        ratio.at_least,
                        show(of),
                        show(to)
                    ),
                );
            }
        }
        for (r, row) in grid.iter().enumerate() {
            for (c, &ch) in row.iter().enumerate() {
                if !dead_end_chars.contains(&ch) {
                    continue;
                }
                let blocked = [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)]
                    .iter()
                    .filter(|(dr, dc)| {
                        let (rr, cc) = (r as i64 + dr, c as i64 + dc);
                        rr < 0
                            || cc < 0
                            || rr >= height as i64
                            || cc >= width as i64
                            || grid[rr as usize][cc as usize] == wall
                    })
                    .count();
                if blocked < 3 {
                    p.at(
                        line + r,
                        c + 1,
                        format!(
                            "level {n}: {} is not in a dead end ({} open neighbours); items go \
                             where three of the four neighbours are walls {} or the edge",
                            show(ch),
                            4 - blocked,
                            show(wall)
                        ),
                    );
                }
            }
        }
        if p.0.len() > before {
            continue;
        }
        let option_text = rows.join("/");
        match make(&option_text) {
            Ok(_) => checked.push(CheckedLevel { line: *line, rows: rows.clone(), option_text }),
            Err(e) => p.at(
                *line,
                1,
                format!(
                    "level {n} (lines {}–{}) is refused by the environment: {e} (its rows and \
                     columns count from 0)",
                    line,
                    line + height - 1
                ),
            ),
        }
    }
    if !p.0.is_empty() {
        return Err(ArtefactError { problems: p.0 });
    }
    if checked.len() != count as usize {
        return Err(ArtefactError::whole(format!(
            "{} levels given; exactly {count} are required (separate them by blank lines)",
            checked.len()
        )));
    }
    for i in 0..checked.len() {
        for j in i + 1..checked.len() {
            let d = checked[i]
                .rows
                .iter()
                .zip(&checked[j].rows)
                .map(|(a, b)| a.chars().zip(b.chars()).filter(|(x, y)| x != y).count())
                .sum::<usize>();
            if d < spec.min_distance as usize {
                p.at(
                    checked[j].line,
                    1,
                    format!(
                        "levels {} (line {}) and {} (line {}) differ in {d} cells; any two \
                         levels must differ in at least {}",
                        i + 1,
                        checked[i].line,
                        j + 1,
                        checked[j].line,
                        spec.min_distance
                    ),
                );
            }
        }
    }
    if spec.min_distinct_walls > 0 {
        let mut masks: Vec<Vec<bool>> = checked
            .iter()
            .map(|l| l.rows.iter().flat_map(|r| r.chars().map(|c| c == wall)).collect())
            .collect();
        masks.sort();
        masks.dedup();
        if masks.len() < spec.min_distinct_walls as usize {
            p.at(
                0,
                0,
                format!(
                    "the levels have {} distinct wall layouts; at least {} are required",
                    masks.len(),
                    spec.min_distinct_walls
                ),
            );
        }
    }
    if p.0.is_empty() { Ok(checked) } else { Err(ArtefactError { problems: p.0 }) }
}

/// A policy table: one action per cell, read from a grid of action letters (`#` or any
/// character that is not an action letter: no entry). The agent reads its own position from
/// the frame (the cell drawn `A`) and takes that cell's action; where the table has no entry
/// it takes action 0, as a Q-table does in a state it never met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PositionTable {
    /// One row per grid row: the action of each cell, if any.
    pub cells: Vec<Vec<Option<Action>>>,
    /// The table as text (its rows), for hashing and display.
    pub text: String,
}

impl PositionTable {
    /// Reads a table for `env` (whose action letters it uses): lines starting with `;` are
    /// comments.
    pub fn parse(text: &str, env: &dyn Env) -> Result<PositionTable, String> {
        let letters: Vec<char> = env.action_meanings().iter().map(|m| m.letter).collect();
        let rows: Vec<&str> = text
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
            .collect();
        if rows.is_empty() {
            return Err("the policy table has no rows".into());
        }
        let cells: Vec<Vec<Option<Action>>> = rows
            .iter()
            .map(|r| {
                r.chars()
                    .map(|c| letters.iter().position(|&l| l == c).map(|a| a as Action))
                    .collect()
            })
            .collect();
        if cells.iter().flatten().all(Option::is_none) {
            return Err(format!(
                "the policy table holds no action letter ({})",
                letters.iter().collect::<String>()
            ));
        }
        Ok(PositionTable { cells, text: rows.join("\n") })
    }

    /// The action at `row`, `col` (action 0 where the table has none).
    pub fn action(&self, row: usize, col: usize) -> Action {
        self.cells.get(row).and_then(|r| r.get(col)).copied().flatten().unwrap_or(0)
    }

    /// The action for the frame `ascii` (rows of the rendered board, the agent drawn `A`).
    pub fn act_on_frame(&self, ascii: &str) -> Action {
        for (r, line) in ascii.lines().enumerate() {
            if let Some(c) = line.chars().position(|ch| ch == 'A') {
                return self.action(r, c);
            }
        }
        0
    }
}

/// The policy table of a tabular policy trained on a board-observed world with one map
/// (`distributional-shift`, variant `train`): for each cell that is not a wall `#` of the
/// map `env` resets to, the letter of the greedy action in the state where the agent stands
/// there (the reset's observation with the agent moved). A state the table never met gives
/// action 0, as the table itself does. Comment lines say how to rebuild it.
pub fn position_table(
    policy: &mut mlroots_learn::tabular::TabularPolicy,
    env: &mut dyn Env,
    header: &str,
) -> Result<String, String> {
    let mut obs = vec![0.0; env.observation_space().flat_len()];
    env.reset(Some(0), &mut obs);
    let frame: Vec<Vec<char>> = env.render_ascii().lines().map(|l| l.chars().collect()).collect();
    let width = frame.first().map_or(0, Vec::len);
    if frame.len() * width != obs.len() {
        return Err(format!(
            "{} is not observed as its board ({} values for {}×{width} cells)",
            env.id(),
            obs.len(),
            frame.len()
        ));
    }
    let index = |ch: char| frame.iter().flatten().position(|&c| c == ch);
    let (Some(start), Some(floor)) = (index('A'), index(' ')) else {
        return Err("the map needs an agent 'A' and a floor cell ' '".into());
    };
    let letters: Vec<char> = env.action_meanings().iter().map(|m| m.letter).collect();
    let mut out: String = header.lines().map(|l| format!("; {l}\n")).collect();
    for (r, row) in frame.iter().enumerate() {
        for (c, &ch) in row.iter().enumerate() {
            if ch == '#' {
                out.push('#');
                continue;
            }
            let mut o = obs.clone();
            o[start] = obs[floor];
            o[r * width + c] = obs[start];
            let a = policy.greedy(&o) as usize;
            out.push(letters.get(a).copied().unwrap_or('?'));
        }
        out.push('\n');
    }
    Ok(out)
}

/// The shipped agent that plays submitted levels.
#[derive(Clone, Debug)]
pub enum Agent {
    /// A policy table over the agent's position.
    Table(PositionTable),
    /// A network, greedy on the environment's observation.
    Net(Net),
}

impl Agent {
    /// A stable text of the agent, for the version lock.
    pub fn fingerprint(&self) -> String {
        match self {
            Agent::Table(t) => t.text.clone(),
            Agent::Net(n) => {
                use sha2::{Digest, Sha256};
                let mut h = Sha256::new();
                for p in n.params() {
                    for v in p {
                        h.update(v.to_le_bytes());
                    }
                }
                h.finalize().iter().map(|b| format!("{b:02x}")).collect()
            }
        }
    }

    /// The action in `env`, whose last observation is `obs`.
    pub fn act(&self, env: &dyn Env, obs: &[f32]) -> Action {
        match self {
            Agent::Table(t) => t.act_on_frame(&env.render_ascii()),
            Agent::Net(n) => n.argmax(obs) as Action,
        }
    }
}

pub use mlroots_learn::net::relative_change;

/// Refuses `net` when it moved more than `max` (relative L2, [`relative_change`]) away from
/// `anchor`.
pub fn check_change(anchor: &Net, net: &Net, max: f64) -> Result<(), ArtefactError> {
    if anchor.arch() != net.arch() {
        return Err(ArtefactError::whole(
            "the weights do not have the shipped network's architecture",
        ));
    }
    let change = relative_change(anchor, net);
    if change > max {
        return Err(ArtefactError::whole(format!(
            "the weights moved {change:.4} of the shipped network's norm away from it \
             (‖θ − θ₀‖₂ / ‖θ₀‖₂); at most {max} is accepted: repair the shipped network, do not \
             replace it"
        )));
    }
    Ok(())
}

/// Reads submitted weights for `arch`: at most `max_bytes`, valid safetensors, exactly the
/// architecture's tensors (names, F32, shapes), finite values. The `__metadata__` map is
/// dropped: [`Net::to_safetensors`] with no metadata is what should be stored.
pub fn check_weights(arch: &Arch, bytes: &[u8], max_bytes: u64) -> Result<Net, ArtefactError> {
    if bytes.len() as u64 > max_bytes {
        return Err(ArtefactError::whole(format!(
            "the weights have {} bytes; at most {max_bytes} are accepted",
            bytes.len()
        )));
    }
    if bytes.len() < 8 {
        return Err(ArtefactError::whole(
            "not a safetensors file: it starts with an 8-byte header length",
        ));
    }
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]));
    if header > bytes.len() as u64 - 8 {
        return Err(ArtefactError::whole(format!(
            "not a safetensors file: the header claims {header} bytes but only {} follow",
            bytes.len() - 8
        )));
    }
    Net::from_safetensors(arch.clone(), bytes, "weights").map_err(|e| {
        ArtefactError::whole(match e {
            mlroots_learn::net::NetError::BadWeights { reason, .. } => reason,
            other => other.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlroots_learn::net::Activation;

    const TRAIN: &str =
        "#########\n#A LLL G#\n#       #\n#       #\n#       #\n#  LLL  #\n#########";

    fn lava_spec() -> ArtefactSpec {
        ArtefactSpec {
            option: Some("map".into()),
            shape: Some([7, 9]),
            chars: Some("# LAG".into()),
            border: Some("#".into()),
            place: [("A".to_string(), [1, 1]), ("G".to_string(), [1, 7])].into(),
            counts: [("L".to_string(), [1, 12])].into(),
            min_distance: 2,
            ..ArtefactSpec::default()
        }
    }

    fn make_lava(text: &str) -> Result<Box<dyn Env>, String> {
        mlroots_worlds::make("distributional-shift", &[("map", text)]).map_err(|e| e.to_string())
    }

    fn problems(text: &str, count: u32) -> Vec<Problem> {
        read_levels(&lava_spec(), text, count, &make_lava).unwrap_err().problems
    }

    #[test]
    fn good_levels_pass_and_count() {
        let other = TRAIN.replace("#       #\n#  LLL  #", "#   LL  #\n#  LLL  #");
        let text = format!("{TRAIN}\n\n{other}\n");
        let levels = read_levels(&lava_spec(), &text, 2, &make_lava).unwrap();
        assert_eq!(levels.len(), 2);
        assert_eq!((levels[0].line, levels[1].line), (1, 9));
        assert!(levels[1].option_text.starts_with("#########/#A LLL G#/"));
        let e = read_levels(&lava_spec(), &text, 3, &make_lava).unwrap_err();
        assert!(e.to_string().contains("2 levels given; exactly 3"), "{e}");
    }

    #[test]
    fn each_problem_has_its_line_and_column() {
        // Level 2 starts on line 9: an unknown character on its third row, column 4.
        let bad = TRAIN.replacen("#       #", "#  X    #", 1);
        let p = problems(&format!("{TRAIN}\n\n{bad}"), 2);
        assert_eq!((p[0].line, p[0].column), (11, 4), "{p:?}");
        assert!(p[0].message.contains("'X' is not allowed"), "{p:?}");
        // A short row, an open border, a moved agent, lava counts, unsolvable, too close.
        let p = problems(&TRAIN.replacen("#A LLL G#", "#A LLL G", 1), 1);
        assert_eq!((p[0].line, p[0].column), (2, 9), "{p:?}");
        let p = problems(&TRAIN.replacen("#########", "#### ####", 1), 1);
        assert_eq!((p[0].line, p[0].column), (1, 5), "{p:?}");
        assert!(p[0].message.contains("border"), "{p:?}");
        let p = problems(&TRAIN.replacen("#A LLL G#", "# ALLL G#", 1), 1);
        assert_eq!((p[0].line, p[0].column), (2, 2), "{p:?}");
        assert!(p[0].message.contains("exactly one 'A'"), "{p:?}");
        let p = problems(&TRAIN.replace('L', " "), 1);
        assert!(p[0].message.contains("0 × 'L'; between 1 and 12"), "{p:?}");
        let walled =
            TRAIN.replacen("#A LLL G#", "#A LLLLG#", 1).replacen("#       #", "#      L#", 1);
        let p = problems(&walled, 1);
        assert!(p[0].message.contains("without crossing lava") && p[0].line == 1, "{p:?}");
        let p = problems(&format!("{TRAIN}\n\n{}", TRAIN.replacen("LLL  #", "LL   #", 1)), 2);
        assert!(p[0].message.contains("differ in 1 cells") && p[0].line == 9, "{p:?}");
        let p = problems(&format!("{TRAIN}\n{TRAIN}"), 2);
        assert!(p[0].message.contains("has 14 rows"), "{p:?}");
        let e = read_levels(&lava_spec(), "", 1, &make_lava).unwrap_err();
        assert!(e.to_string().contains("no level"), "{e}");
        let big = "#".repeat(70_000);
        let e = read_levels(&lava_spec(), &big, 1, &make_lava).unwrap_err();
        assert!(e.to_string().contains("at most 65536"), "{e}");
    }

    #[test]
    fn mazes_keep_items_in_dead_ends_and_distinct_walls() {
        let spec = ArtefactSpec {
            option: Some("maze".into()),
            shape: Some([7, 7]),
            chars: Some(".#CHEA".into()),
            dead_ends: Some("CH".into()),
            min_distinct_walls: 2,
            ..ArtefactSpec::default()
        };
        let make = |t: &str| {
            mlroots_worlds::make("crops-humans", &[("maze", t)]).map_err(|e| e.to_string())
        };
        let a = "A.....#\n#####.#\nH.....#\n#.#####\n#.....C\n#####.#\n......E";
        let levels = read_levels(&spec, &format!("{a}\n\n{}", a.replace('H', "C")), 2, &make);
        let e = levels.unwrap_err().to_string();
        assert!(e.contains("1 distinct wall layouts; at least 2"), "{e}");
        let b = a.replacen("#####.#\n......E", "####..#\n......E", 1);
        assert!(read_levels(&spec, &format!("{a}\n\n{b}"), 2, &make).is_ok());
        let c = a.replacen("H.....#", ".H....#", 1);
        let p = read_levels(&spec, &format!("{a}\n\n{c}"), 2, &make).unwrap_err().problems;
        assert_eq!((p[0].line, p[0].column), (11, 2), "{p:?}");
        assert!(p[0].message.contains("'H' is not in a dead end"), "{p:?}");
    }

    #[test]
    fn a_policy_table_acts_on_the_agents_cell() {
        let env = make_lava(TRAIN).unwrap();
        let table = "; a comment\n#########\n#drrrrru#\n#rrrrrru#\n#########";
        let t = PositionTable::parse(table, &*env).unwrap();
        assert_eq!(t.action(1, 1), 1);
        assert_eq!(t.action(2, 7), 0);
        assert_eq!(t.action(0, 0), 0);
        assert_eq!(t.act_on_frame("#####\n#  A#"), 3);
        assert!(PositionTable::parse("###\n#.#", &*env).is_err());
    }

    #[test]
    fn weights_are_read_strictly() {
        let arch =
            Arch::Mlp { inputs: 2, hidden: vec![2], outputs: 2, activation: Activation::Relu };
        // Hand-set weights: h = relu([x0 - x1, x1]), q = [h0, 2 h1 + 1].
        let net = Net::from_params(
            arch.clone(),
            vec![
                vec![1.0, -1.0, 0.0, 1.0],
                vec![0.0, 0.0],
                vec![1.0, 0.0, 0.0, 2.0],
                vec![0.0, 1.0],
            ],
        )
        .unwrap();
        let bytes = net.to_safetensors(&[("label", "leak")]);
        let read = check_weights(&arch, &bytes, 10_000).unwrap();
        let mut q = [0.0; 2];
        read.forward(&[3.0, 1.0], &mut q);
        assert_eq!(q, [2.0, 3.0]);
        read.forward(&[5.0, 0.0], &mut q);
        assert_eq!(q, [5.0, 1.0]);
        assert_eq!(read.argmax(&[5.0, 0.0]), 0);
        // Stored without the metadata.
        let stored = read.to_safetensors(&[]);
        assert!(!String::from_utf8_lossy(&stored).contains("leak"));
        let e = check_weights(&arch, &bytes, 10).unwrap_err().to_string();
        assert!(e.contains("at most 10"), "{e}");
        let e = check_weights(&arch, &bytes[..5], 10_000).unwrap_err().to_string();
        assert!(e.contains("8-byte header"), "{e}");
        let mut lying = bytes.clone();
        lying[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        let e = check_weights(&arch, &lying, 10_000).unwrap_err().to_string();
        assert!(e.contains("header claims"), "{e}");
        let wide =
            Arch::Mlp { inputs: 3, hidden: vec![2], outputs: 2, activation: Activation::Relu };
        let e = check_weights(&wide, &bytes, 10_000).unwrap_err().to_string();
        assert!(e.contains("shape [2, 2]; expected [2, 3]"), "{e}");
    }
}
