#[threadlint_macros::tool]
const SEARCH: &str = "search";

fn main() {}
