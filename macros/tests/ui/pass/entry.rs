#[threadlint_macros::entry]
pub async fn on_frame(frame: String) -> usize {
    frame.len()
}

fn main() {
    let _ = on_frame(String::new());
}
