//! The dispatch benchmark: 1,000 open jobs, 300 technicians, seed 42.
//!
//! `cargo run --release -p boh-dispatch --example dispatch_bench`

fn main() {
    print!("{}", boh_dispatch::bench::run(1000, 300, 42));
}
