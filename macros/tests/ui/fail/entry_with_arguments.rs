#[threadlint_macros::entry(websocket)]
fn on_frame() {}

fn main() {}
