//! `mlroots envs`: the registry as a table or as JSON.

use mlroots_env::Env;
use serde::Serialize;

#[derive(Serialize)]
struct Row {
    id: String,
    summary: &'static str,
    options: &'static [mlroots_worlds::OptionSpec],
    action_space: mlroots_env::Discrete,
    actions: Vec<mlroots_env::ActionMeaning>,
    observation_space: mlroots_env::Space,
    reward_range: (f64, f64),
    max_steps: u32,
}

pub fn run(json: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for info in mlroots_worlds::registry() {
        let env = mlroots_worlds::make(info.name, &[])?;
        rows.push(Row {
            id: format!("{}-v{}", info.name, info.version),
            summary: info.summary,
            options: info.options,
            action_space: env.action_space(),
            actions: env.action_meanings().to_vec(),
            observation_space: env.observation_space().clone(),
            reward_range: env.reward_range(),
            max_steps: info.max_steps,
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for r in &rows {
        let letters: String = r.actions.iter().map(|m| m.letter).collect();
        let shape = match &r.observation_space {
            mlroots_env::Space::Box(b) => {
                b.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x")
            }
            mlroots_env::Space::Discrete(d) => format!("Discrete({})", d.n),
        };
        println!("{:<24} actions {letters:<6} board {shape:<6} {}", r.id, r.summary);
        for o in r.options {
            let values = if o.values.is_empty() { "TEXT".to_string() } else { o.values.join("|") };
            println!("{:<24}   --opt {}={values}  (default {}) {}", "", o.key, o.default, o.doc);
        }
    }
    Ok(())
}
