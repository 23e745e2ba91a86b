//! The `mlroots` command. Glue only: every behaviour lives in a library crate.

fn main() {}
