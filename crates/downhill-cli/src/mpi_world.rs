//! `train --distributed` over MPI (rsmpi): `MPI_COMM_WORLD` as the
//! library's [`Communicator`], and what a rank does when the job fails, so
//! that nothing hangs and one `error:` line says why.

use crate::error::CliError;
use downhill::train::{CommError, Communicator};
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives as _};
use mpi::Count;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once this rank ends of its own accord: a stop signal then only exits.
static ENDING: AtomicBool = AtomicBool::new(false);

/// This process's place in the MPI job. Dropping it finalizes MPI.
pub struct World {
    world: SimpleCommunicator,
    _universe: Universe,
}

impl World {
    /// Initialises MPI and arms the stop signals: when a rank dies, mpirun
    /// terminates the others, and each survivor prints one `error:` line
    /// (naming the checkpoint that stays) and exits with status 2 at once.
    pub fn init(checkpoint: Option<&Path>) -> Result<Self, CliError> {
        let universe = mpi::initialize()
            .ok_or_else(|| CliError::new("--distributed: MPI is already initialised"))?;
        let world = universe.world();
        let (rank, size) = (world.rank(), world.size());
        let kept = checkpoint
            .map(|p| format!("; the last checkpoint {} is intact", p.display()))
            .unwrap_or_default();
        let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                if ENDING.load(Ordering::SeqCst) {
                    signal_hook::low_level::exit(2);
                }
                let name = signal_hook::low_level::signal_name(signal).unwrap_or("a signal");
                eprintln!(
                    "error: rank {rank} of {size} stopped by {name}: mpirun ends the job when a rank fails or the job is interrupted{kept}"
                );
                signal_hook::low_level::exit(2);
            }
        });
        Ok(World {
            world,
            _universe: universe,
        })
    }

    /// How a rank ends after `result`. An error every rank meets alike is
    /// printed by rank 0 alone and every rank exits with status 2; an error of
    /// this rank only (rank 0's output after training) is printed here and the whole
    /// job aborted, since the other ranks would wait for it forever.
    pub fn finish(self, result: Result<(), CliError>) -> Result<(), CliError> {
        let e = match result {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let rank = self.rank();
        if matches!(e, CliError::Reported) || same_on_every_rank(&e) {
            // No rank exits before rank 0 has printed: mpirun stops the job
            // at the first exit with a non-zero status.
            if rank == 0 {
                eprintln!("error: {e}");
            }
            ENDING.store(true, Ordering::SeqCst);
            self.world.barrier();
            return Err(CliError::Reported);
        }
        let who = if rank == 0 {
            String::new()
        } else {
            format!("rank {rank}: ")
        };
        eprintln!("error: {who}{e}");
        self.world.abort(2)
    }
}

/// Errors that every rank reaches at the same point: the ranks compute the
/// same global gradient and take the same decisions, and they agree on
/// whether rank 0's files were written (see [`downhill::train::Gathered`]).
/// What is left is rank 0's output after training.
fn same_on_every_rank(e: &CliError) -> bool {
    matches!(
        e,
        CliError::Train(_)
            | CliError::Message(_)
            | CliError::Config(_)
            | CliError::Setup(_)
            | CliError::Step(_)
    )
}

impl Communicator for World {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    /// `MPI_Allgather` of the lengths, then `MPI_Allgatherv` of the bytes.
    fn all_gather(&self, local: &[u8]) -> Result<Vec<Vec<u8>>, CommError> {
        let too_long = |what: &str| {
            CommError(format!(
                "{what} exceed the {} bytes one MPI collective can carry",
                Count::MAX
            ))
        };
        let len = Count::try_from(local.len()).map_err(|_| too_long("this rank's bytes"))?;
        let mut counts = vec![0 as Count; self.size()];
        self.world.all_gather_into(&len, &mut counts[..]);
        let mut displs = Vec::with_capacity(counts.len());
        let mut end: Count = 0;
        for &c in &counts {
            displs.push(end);
            end = end
                .checked_add(c)
                .ok_or_else(|| too_long("all ranks' bytes together"))?;
        }
        // An empty Rust slice points at address 1, which Open MPI reads as
        // MPI_IN_PLACE: every buffer handed over points into real memory.
        let send: &[u8] = if local.is_empty() { &[0][..0] } else { local };
        let mut all = vec![0u8; (end as usize).max(1)];
        self.world.all_gather_varcount_into(
            send,
            &mut PartitionMut::new(&mut all[..], &counts[..], &displs[..]),
        );
        Ok(counts
            .iter()
            .zip(&displs)
            .map(|(&c, &d)| all[d as usize..(d + c) as usize].to_vec())
            .collect())
    }
}
