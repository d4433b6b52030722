//! One process-wide reader of standard input.
//!
//! A read of stdin can block forever, and a blocked `spawn_blocking` task would hold up runtime shutdown, so a
//! plain thread reads stdin and hands chunks over a channel. Receiving from the channel is cancel-safe, so a
//! dropped `poll` loses nothing, and a task restarted in the same process picks up where the last one was.

use std::io::{self, Read};
use std::sync::OnceLock;

use tokio::sync::{Mutex, mpsc};

/// A chunk of stdin, or the error that ended it. The channel closes at end of input.
pub(crate) type Chunk = io::Result<Vec<u8>>;

const CHUNK_SIZE: usize = 64 * 1024;

static STDIN: OnceLock<Mutex<mpsc::Receiver<Chunk>>> = OnceLock::new();

/// The receiving end of the stdin reader, started on first use.
pub(crate) fn receiver() -> &'static Mutex<mpsc::Receiver<Chunk>> {
    STDIN.get_or_init(|| {
        let (tx, rx) = mpsc::channel(4);
        let spawned = std::thread::Builder::new()
            .name("causeway-stdin".into())
            .spawn(move || pump(&tx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "Could not start the standard input reader thread.");
        }
        Mutex::new(rx)
    })
}

fn pump(tx: &mpsc::Sender<Chunk>) {
    let mut stdin = io::stdin().lock();
    loop {
        let mut chunk = vec![0; CHUNK_SIZE];
        match stdin.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                if tx.blocking_send(Ok(chunk)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}
