//! What every learner's configuration shares with the command line: `--set KEY=VALUE` values
//! read as JSON, and the `mlroots train` command a preset stands for. One place, so that the
//! tabular and the network learners read and print them alike.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Budget;

/// Why [`with_key`] refused a key or value.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyError {
    /// The configuration has no such key; `known` lists its keys, comma-separated.
    Unknown {
        /// The accepted keys.
        known: String,
    },
    /// The value does not fit the key's type.
    Bad {
        /// What serde said.
        reason: String,
    },
}

/// A copy of `config` with `key` set to `value` (checked against the configuration's own
/// serde form: an unknown key or a value of the wrong type is refused; ranges are the
/// caller's to check).
pub fn with_key<T: Serialize + DeserializeOwned>(
    config: &T,
    key: &str,
    value: serde_json::Value,
) -> Result<T, KeyError> {
    let serde_json::Value::Object(mut map) =
        serde_json::to_value(config).expect("a configuration serialises")
    else {
        unreachable!("a configuration is a struct");
    };
    if !map.contains_key(key) {
        return Err(KeyError::Unknown {
            known: map.keys().cloned().collect::<Vec<_>>().join(", "),
        });
    }
    map.insert(key.to_string(), value);
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| KeyError::Bad { reason: e.to_string() })
}

/// A copy of `config` with every field of the JSON object `text` set through [`with_key`]
/// (an experiment's overrides, given as one JSON argument); the error says which key failed.
/// An unknown field is refused, as `--set` refuses it.
pub fn with_json<T: Serialize + DeserializeOwned + Clone>(
    config: &T,
    text: &str,
) -> Result<T, String> {
    let set: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    let Some(fields) = set.as_object() else {
        return Err(format!("not a JSON object: {text}"));
    };
    let mut out = config.clone();
    for (k, v) in fields {
        out = with_key(&out, k, v.clone()).map_err(|e| match e {
            KeyError::Unknown { known } => format!("no field {k:?}; the fields are {known}"),
            KeyError::Bad { reason } => format!("{k}: {reason}"),
        })?;
    }
    Ok(out)
}

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
    #[test]
    fn json_overrides_set_known_fields_and_refuse_unknown_ones() {
        #[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
        struct C {
            steps: u32,
            lr: f64,
        }
        let c = C { steps: 10, lr: 0.5 };
        assert_eq!(with_json(&c, r#"{"steps": 20}"#), Ok(C { steps: 20, lr: 0.5 }));
        assert!(with_json(&c, r#"{"stpes": 20}"#).unwrap_err().contains("no field \"stpes\""));
        assert!(with_json(&c, r#"{"steps": "x"}"#).unwrap_err().starts_with("steps: "));
        assert!(with_json(&c, "[1]").unwrap_err().contains("not a JSON object"));
    }

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
