//! What every learner's configuration shares with the command line: `--set KEY=VALUE` values
//! read as JSON, and the `mlroots train` command a preset stands for. One place, so that the
//! tabular and the network learners read and print them alike.

use crate::Budget;

/// A command-line value as JSON: an integer, a float, a boolean, or else a string.
pub fn text_value(value: &str) -> serde_json::Value {
    if let Ok(i) = value.parse::<i64>() {
        return i.into();
    }
    if let Ok(f) = value.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return serde_json::Value::Number(n);
    }
    match value {
        "true" => true.into(),
        "false" => false.into(),
        _ => value.into(),
    }
}

/// The `mlroots train ALGO ENV --opt K=V... --preset NAME --episodes|--steps N` command.
pub fn train_command(
    algo: &str,
    env: &str,
    options: &[(&str, &str)],
    preset: &str,
    budget: Budget,
) -> String {
    let mut cmd = format!("mlroots train {algo} {env}");
    for (k, v) in options {
        cmd.push_str(&format!(" --opt {k}={v}"));
    }
    cmd.push_str(&format!(" --preset {preset}"));
    match budget {
        Budget::Episodes(n) => cmd.push_str(&format!(" --episodes {n}")),
        Budget::Steps(n) => cmd.push_str(&format!(" --steps {n}")),
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_and_commands_spelled_out() {
        assert_eq!(text_value("3"), serde_json::json!(3));
        assert_eq!(text_value("0.5"), serde_json::json!(0.5));
        assert_eq!(text_value("false"), serde_json::json!(false));
        assert_eq!(text_value("trazzi"), serde_json::json!("trazzi"));
        assert_eq!(
            train_command("dqn", "keys-chests", &[("dist", "train")], "p", Budget::Steps(5)),
            "mlroots train dqn keys-chests --opt dist=train --preset p --steps 5"
        );
    }
}
