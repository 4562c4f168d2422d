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

use crate::base::pagebuf::{MapVec, PageBuf};
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
    /// Encoded frame bytes (decoding).
    pub input: Vec<u8>,
    /// Input bytes of the job (encoding, read path).
    pub read: MapVec,
    /// What the worker produced (encoding).
    pub output: Vec<u8>,
    /// Decoded bytes (decoding).
    pub decoded: PageBuf,
}

impl Slot {
    /// Bytes the slot's buffers hold.
    fn bytes(&self) -> usize {
        self.input.capacity()
            + self.read.capacity()
            + self.output.capacity()
            + self.decoded.capacity()
    }
}

// `End` is sent once per run: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Msg<R> {
    Done(u64, Slot, Result<R>),
    End(u64),
}

/// Per-worker state kept between jobs (e.g. match-finder tables), never shared.
struct StatePool<S> {
    free: Mutex<Vec<S>>,
}

impl<S: Default> StatePool<S> {
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

/// The slots and worker states of [`run`], kept from one run to the next: a run reuses
/// the buffers of the runs before it instead of freeing them and allocating new ones.
/// A process that codes file after file would otherwise grow past its memory budget:
/// the allocator keeps freed megabytes, spread over its threads' arenas, for later.
///
/// It holds at most as many slots and states as the largest run used at once.
pub struct Reserve<S> {
    slots: Mutex<Vec<Slot>>,
    states: StatePool<S>,
}

impl<S> Default for Reserve<S> {
    fn default() -> Self {
        Self {
            slots: Mutex::new(Vec::new()),
            states: StatePool {
                free: Mutex::new(Vec::new()),
            },
        }
    }
}

impl<S> Reserve<S> {
    /// `lanes.slots` slots, the kept ones first (largest first). A kept slot this run
    /// does not use stays kept, idle. All kept slots, the unused ones counted whole and
    /// the slots still to be made counted at `lanes.slot_bytes`, hold no more than this
    /// run's slots may (`lanes.slots x lanes.slot_bytes`); what would go over is freed.
    /// So a run after one with larger slots holds what its own plan asks for, while runs
    /// of alternating plans (small files, then a large one, and so on) reuse what fits.
    fn take_slots(&self, lanes: &Lanes) -> Vec<Slot> {
        let Ok(mut kept) = self.slots.lock() else {
            return (0..lanes.slots).map(|_| Slot::default()).collect();
        };
        let mut all = std::mem::take(&mut *kept);
        all.sort_by_key(|s| std::cmp::Reverse(s.bytes()));
        let per_slot = lanes.slot_bytes as i128;
        let mut over = 0i128;
        let mut used = Vec::with_capacity(lanes.slots);
        for slot in all {
            let cost = if used.len() < lanes.slots {
                slot.bytes() as i128 - per_slot
            } else {
                slot.bytes() as i128
            };
            if over + cost > 0 {
                continue; // freed
            }
            over += cost;
            if used.len() < lanes.slots {
                used.push(slot);
            } else {
                kept.push(slot);
            }
        }
        used.resize_with(lanes.slots, Slot::default);
        used
    }

    fn keep_slots(&self, slots: impl IntoIterator<Item = Slot>) {
        if let Ok(mut v) = self.slots.lock() {
            v.extend(slots);
        }
    }
}

/// How many jobs [`run`] keeps in flight and how large their buffers may be.
#[derive(Clone, Copy, Debug)]
pub struct Lanes {
    /// Jobs in flight (each in a slot), at least 1.
    pub slots: usize,
    /// Jobs running `work` at once (each with a state), at least 1.
    pub workers: usize,
    /// Bytes one slot of this run may hold: kept slots are reused while their sum stays
    /// within `slots x slot_bytes` (see `Reserve::take_slots`; `usize::MAX`: reuse any).
    pub slot_bytes: usize,
}

impl Lanes {
    /// Two slots per worker ([`slots`]), of any size.
    pub fn any_size(workers: usize) -> Lanes {
        Lanes {
            slots: slots(workers),
            workers,
            slot_bytes: usize::MAX,
        }
    }
}

/// Runs `produce` (input side, on its own thread), `work` (on `pool`) and `consume` (on
/// the calling thread, in job order) with at most `lanes.slots` jobs in flight, of which
/// at most `lanes.workers` run `work` at once (so at most that many states exist,
/// whatever the pool's size: a memory limit may plan fewer workers than the pool has
/// threads). Slots and states come from `reserve` and go back to it.
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
    reserve: &Reserve<S>,
    lanes: Lanes,
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
    let lanes = Lanes {
        slots: lanes.slots.max(1),
        workers: lanes.workers.max(1),
        ..lanes
    };
    let (free_tx, free_rx) = sync_channel::<Slot>(lanes.slots);
    for slot in reserve.take_slots(&lanes) {
        // Cannot fail: the channel has room for every slot and the receiver is alive.
        let _ = free_tx.send(slot);
    }
    // A token per worker: the dispatcher takes one before it starts a job, the job gives
    // it back when its work is done.
    let (token_tx, token_rx) = sync_channel::<()>(lanes.workers);
    for _ in 0..lanes.workers {
        let _ = token_tx.send(());
    }
    let (done_tx, done_rx) = channel::<Msg<R>>();
    let work = &work;
    let states = &reserve.states;
    let mut outcome = Ok(());
    pool.in_place_scope(|scope| {
        std::thread::scope(|threads| {
            let dispatcher_done = done_tx.clone();
            let dispatcher = threads.spawn(move || {
                let mut seq = 0u64;
                let mut unfilled = None;
                while let Ok(mut slot) = free_rx.recv() {
                    match produce(seq, &mut slot) {
                        Ok(Some(job)) => {
                            if token_rx.recv().is_err() {
                                break; // cannot happen: this function holds a sender
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
                            unfilled = Some(slot);
                            break;
                        }
                        Err(e) => {
                            let _ = dispatcher_done.send(Msg::Done(seq, slot, Err(e)));
                            let _ = dispatcher_done.send(Msg::End(seq + 1));
                            break;
                        }
                    }
                }
                (free_rx, unfilled)
            });
            drop(done_tx);
            outcome = write_in_order(done_rx, free_tx, &mut consume);
            // `free_tx` is gone now, so a blocked dispatcher wakes up and stops. The slots
            // back in the free list go to the reserve (after an error, those still in
            // flight are dropped). A panic of `produce` has already become the writer's
            // error: its messages' senders were dropped.
            if let Ok((free_rx, unfilled)) = dispatcher.join() {
                reserve.keep_slots(free_rx.try_iter().chain(unfilled));
            }
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
            &Reserve::default(),
            Lanes {
                slots: 4,
                workers: 2,
                slot_bytes: usize::MAX,
            },
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
                &Reserve::default(),
                Lanes {
                    slots: 8,
                    workers,
                    slot_bytes: usize::MAX,
                },
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

    fn slot_with_output(bytes: usize) -> Slot {
        let mut s = Slot::default();
        s.output.reserve_exact(bytes);
        s
    }

    fn held(slots: &[Slot]) -> usize {
        slots.iter().map(Slot::bytes).sum()
    }

    #[test]
    fn a_run_reuses_its_slots_and_holds_no_more_than_its_plan() {
        const MIB: usize = 1 << 20;
        let pool = worker_pool(2, "test").unwrap();
        let reserve = Reserve::<()>::default();
        let lanes = |slots, slot_bytes| Lanes {
            slots,
            workers: 2,
            slot_bytes,
        };
        // A run gives its slots back, buffers and all.
        let mut next = 0;
        run(
            &pool,
            &reserve,
            lanes(2, 4 * MIB),
            |_, _| {
                next += 1;
                Ok((next <= 6).then_some(()))
            },
            |(), slot, _: &mut ()| {
                slot.output.resize(3 * MIB, 1);
                Ok(())
            },
            |_, (), _| Ok(()),
        )
        .unwrap();
        let kept = reserve.slots.lock().unwrap().len();
        assert_eq!(kept, 2);
        // The next run of alike slots reuses them: nothing new is allocated.
        let taken = reserve.take_slots(&lanes(2, 4 * MIB));
        assert!(taken.iter().all(|s| s.output.capacity() >= 3 * MIB));
        reserve.keep_slots(taken);
        // A run of four 1 MiB slots: the two 3 MiB ones do not fit its 4 MiB and go.
        let taken = reserve.take_slots(&lanes(4, MIB));
        assert_eq!(taken.len(), 4);
        let idle = reserve.slots.lock().unwrap().len();
        assert!(
            held(&taken) <= 4 * MIB && idle == 0,
            "{} {idle}",
            held(&taken)
        );
        reserve.keep_slots(taken);
        // Smaller slots than a run needs stay, idle ones too while the sum fits.
        reserve.keep_slots([slot_with_output(MIB / 2), slot_with_output(MIB / 2)]);
        let taken = reserve.take_slots(&lanes(1, 2 * MIB));
        let idle = reserve.slots.lock().unwrap();
        assert_eq!(taken.len(), 1);
        assert!(taken[0].output.capacity() >= MIB / 2);
        assert_eq!(held(&idle), idle[0].bytes(), "the other is kept, idle");
        assert!(held(&taken) + held(&idle) <= 2 * MIB);
    }
}
