#[threadlint_macros::allow(TP003, reason = "metrics are global")]
pub fn spawn_metrics() {}

#[threadlint_macros::allow(TP001, TP002, reason = "warm-up has no conversation")]
pub struct WarmUp;

#[threadlint_macros::allow(TP005, reason = "metadata only")]
impl WarmUp {
    pub fn name(&self) -> &'static str {
        "warm-up"
    }
}

fn main() {
    spawn_metrics();
    let _ = WarmUp.name();
}
