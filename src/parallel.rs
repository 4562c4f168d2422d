//! The bounded ordered parallel engine shared by encoding and decoding: a dispatcher fills slots
//! from the input, rayon workers turn each slot's job into output, and the ordered writer
//! consumes results strictly in job order. A fixed set of slots is the buffer pool: the
//! dispatcher blocks until the writer hands one back, so at most `slots` jobs are in
//! flight and memory is O(slots x frame size) whatever the input size.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::base::pagebuf::PageBuf;
use crate::error::{Error, Result};

/// `0` means one worker per core.
pub fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        num_cpus::get().max(1)
    } else {
        threads
    }
}

/// Jobs in flight for `threads` workers: two per worker, so a worker that finishes early
/// can start the next job while the writer waits for an earlier one.
pub fn slots(threads: usize) -> usize {
    2 * threads.max(1)
}

/// A worker pool of `threads` threads named `name-N`, owned by its encoder or decoder.
///
/// # Errors
/// The operating system refuses the threads.
pub fn worker_pool(threads: usize, name: &'static str) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("{name}-{i}"))
        .build()
        .map_err(|e| Error::InvalidSetting {
            detail: format!("cannot start {threads} worker threads: {e}"),
        })
}

/// Reusable buffers of one job in flight.
#[derive(Default)]
pub struct Slot {
    /// Input bytes of the job (read path) or encoded frame bytes (decoding).
    pub input: Vec<u8>,
    /// What the worker produced (encoding).
    pub output: Vec<u8>,
    /// Decoded bytes (decoding).
    pub decoded: PageBuf,
}

enum Msg<R> {
    Done(u64, Slot, Result<R>),
    End(u64),
}

/// Per-worker state kept between jobs (e.g. match-finder tables), never shared.
pub struct StatePool<S> {
    free: Mutex<Vec<S>>,
}

impl<S: Default> StatePool<S> {
    fn new() -> Self {
        Self {
            free: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> S {
        self.free
            .lock()
            .map(|mut v| v.pop())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    fn give(&self, s: S) {
        if let Ok(mut v) = self.free.lock() {
            v.push(s);
        }
    }
}

/// Runs `produce` (input side, on its own thread), `work` (on `pool`) and `consume` (on
/// the calling thread, in job order) with at most `slots` jobs in flight, of which at
/// most `workers` run `work` at once (so at most `workers` states exist, whatever the
/// pool's size: a memory limit may plan fewer workers than the pool has threads).
///
/// `produce(seq, slot)` prepares job `seq` and returns it, or `None` at the end.
/// `work(job, slot, state)` runs on a worker and fills `slot.output`.
/// `consume(seq, result, slot)` sees results in order. The first error anywhere stops
/// the run and is returned; results after it are not consumed.
///
/// # Errors
/// The first error of `produce`, `work` or `consume`, in job order.
pub fn run<J, R, S, P, W, C>(
    pool: &rayon::ThreadPool,
    slots: usize,
    workers: usize,
    mut produce: P,
    work: W,
    mut consume: C,
) -> Result<()>
where
    J: Send,
    R: Send,
    S: Default + Send,
    P: FnMut(u64, &mut Slot) -> Result<Option<J>> + Send,
    W: Fn(J, &mut Slot, &mut S) -> Result<R> + Sync,
    C: FnMut(u64, R, &mut Slot) -> Result<()>,
{
    let slots = slots.max(1);
    let (free_tx, free_rx) = sync_channel::<Slot>(slots);
    for _ in 0..slots {
        // Cannot fail: the channel has room for every slot and the receiver is alive.
        let _ = free_tx.send(Slot::default());
    }
    // A token per worker: the dispatcher takes one before it starts a job, the job gives
    // it back when its work is done.
    let workers = workers.max(1);
    let (token_tx, token_rx) = sync_channel::<()>(workers);
    for _ in 0..workers {
        let _ = token_tx.send(());
    }
    let (done_tx, done_rx) = channel::<Msg<R>>();
    let states = StatePool::<S>::new();
    let work = &work;
    let states = &states;
    let mut outcome = Ok(());
    pool.in_place_scope(|scope| {
        std::thread::scope(|threads| {
            let dispatcher_done = done_tx.clone();
            threads.spawn(move || {
                let mut seq = 0u64;
                while let Ok(mut slot) = free_rx.recv() {
                    match produce(seq, &mut slot) {
                        Ok(Some(job)) => {
                            if token_rx.recv().is_err() {
                                return; // cannot happen: this function holds a sender
                            }
                            let tx = dispatcher_done.clone();
                            let token = token_tx.clone();
                            let id = seq;
                            scope.spawn(move |_| {
                                // A panicking job becomes an error of that job, so the
                                // writer never waits for a result that cannot come.
                                let caught = catch_unwind(AssertUnwindSafe(|| {
                                    let mut state = states.take();
                                    let result = work(job, &mut slot, &mut state);
                                    states.give(state);
                                    (slot, result)
                                }));
                                let _ = token.send(());
                                let (slot, result) = caught.unwrap_or_else(|_| {
                                    (
                                        Slot::default(),
                                        Err(Error::Internal {
                                            detail: format!("job {id} panicked"),
                                        }),
                                    )
                                });
                                let _ = tx.send(Msg::Done(id, slot, result));
                            });
                            seq += 1;
                        }
                        Ok(None) => {
                            let _ = dispatcher_done.send(Msg::End(seq));
                            return;
                        }
                        Err(e) => {
                            let _ = dispatcher_done.send(Msg::Done(seq, slot, Err(e)));
                            let _ = dispatcher_done.send(Msg::End(seq + 1));
                            return;
                        }
                    }
                }
            });
            drop(done_tx);
            outcome = write_in_order(done_rx, free_tx, &mut consume);
            // `free_tx` is gone now, so a blocked dispatcher wakes up and stops.
        });
    });
    outcome
}

fn write_in_order<R, C>(
    done: Receiver<Msg<R>>,
    free: SyncSender<Slot>,
    consume: &mut C,
) -> Result<()>
where
    C: FnMut(u64, R, &mut Slot) -> Result<()>,
{
    let mut pending: BTreeMap<u64, (Slot, Result<R>)> = BTreeMap::new();
    let mut next = 0u64;
    let mut end: Option<u64> = None;
    loop {
        while let Some((slot, result)) = pending.remove(&next) {
            let mut slot = slot;
            consume(next, result?, &mut slot)?;
            next += 1;
            let _ = free.send(slot);
        }
        if end == Some(next) {
            return Ok(());
        }
        match done.recv() {
            Ok(Msg::Done(seq, slot, result)) => {
                pending.insert(seq, (slot, result));
            }
            Ok(Msg::End(n)) => end = Some(n),
            // Every sender is gone without an end message: cannot happen unless a worker
            // panicked; report it rather than hang.
            Err(_) => {
                return Err(Error::Internal {
                    detail: "a worker stopped without a result".into(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_job_is_an_error_not_a_hang() {
        let pool = worker_pool(2, "test").unwrap();
        let mut next = 0u64;
        let mut consumed = Vec::new();
        let result = run(
            &pool,
            4,
            2,
            |_, _| {
                next += 1;
                Ok((next <= 20).then_some(next))
            },
            |job: u64, _, _: &mut ()| {
                assert!(job != 7, "job 7 fails");
                Ok(job)
            },
            |_, r, _| {
                consumed.push(r);
                Ok(())
            },
        );
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Internal { .. }), "{err}");
        assert!(err.to_string().contains("job 6"), "{err}");
        assert_eq!(consumed, (1..=6).collect::<Vec<_>>());
    }

    #[test]
    fn no_more_jobs_run_at_once_than_workers() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let pool = worker_pool(4, "test").unwrap();
        for workers in [1, 2, 4] {
            let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
            let mut next = 0u64;
            let mut consumed = Vec::new();
            run(
                &pool,
                8,
                workers,
                |_, _| {
                    next += 1;
                    Ok((next <= 40).then_some(next))
                },
                |job: u64, _, _: &mut ()| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(job)
                },
                |_, r, _| {
                    consumed.push(r);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(consumed, (1..=40).collect::<Vec<_>>());
            let most = most.load(Ordering::SeqCst);
            assert!(
                most <= workers,
                "{most} jobs ran at once with {workers} workers"
            );
            // The limit is not a serialisation: with 4 workers, jobs do overlap.
            if workers == 4 {
                assert!(most > 1, "jobs never overlapped");
            }
        }
    }
}
