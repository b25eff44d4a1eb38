#[threadlint_macros::propagates(conversation)]
pub fn relay(conversation: u64, text: &str) -> String {
    format!("{conversation}: {text}")
}

pub struct Session(u64);

impl Session {
    #[threadlint_macros::propagates(self)]
    pub fn forward(&self) -> u64 {
        self.0
    }
}

fn main() {
    let _ = relay(1, "hi");
    let _ = Session(2).forward();
}
