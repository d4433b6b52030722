//! Starts the test harness's Kafka broker and keeps it up until this process ends, for benchmarks and
//! manual runs: `cargo run -p causeway-testkit --example kafka-broker` prints `bootstrap=host:port`.
use std::io::Write;

fn main() {
    let broker = causeway_testkit::kafka::KafkaBroker::start();
    let c = broker.cluster();
    println!("bootstrap={}", c.bootstrap);
    if let Some(s) = &c.sasl_bootstrap {
        println!("sasl_bootstrap={s}");
    }
    if let Some(s) = &c.ssl_bootstrap {
        println!("ssl_bootstrap={s}");
    }
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
