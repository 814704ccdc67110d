/**
 * Every seed that once failed, by name: each replays with `npm run sim -- --seed S --faults P`.
 * `expect: 'clean'` seeds must pass; the others show a known runtime bug and must keep showing
 * it (exactly the listed invariants, no others) until the bug is fixed — then the entry flips to 'clean'.
 */
export interface Regression {
  readonly name: string
  readonly seed: number
  readonly profile: string
  readonly expect: 'clean' | readonly string[]
  readonly note: string
}

/**
 * Runtime bugs the simulation found that are not fixed yet, by the invariant name their
 * violations carry. The CI sweeps count them but do not fail on them; each has a `test.fails`
 * named scenario in test/sim/scenarios.test.ts. Remove an entry when its bug is fixed.
 * Empty today: the stuck passivation ('known-bug:stuck-behind-passivation', acks routed to the
 * new activation) is fixed — acks reach the passivating activation first.
 */
export const knownBugs: Readonly<Record<string, string>> = {}

/** The regression seeds, oldest first. */
export const regressions: readonly Regression[] = [
  {
    name: 'a key re-activated on the same host while its last activation was still saving',
    seed: 45,
    profile: 'ci-1',
    expect: 'clean',
    note: 'Host reports activate when it creates the activation, before the previous one finished saving; the checker saw two activations. The sim now records the activation when it can run turns.',
  },
  ...[3, 60, 69].map((seed) => ({
    name: `same-host re-activation during a slow save (seed ${seed})`,
    seed,
    profile: 'ci-1',
    expect: 'clean' as const,
    note: 'as seed 45',
  })),
  {
    name: 'a lost replication ack (one-way partition) blocked a key forever',
    seed: 197,
    profile: 'ci-1',
    expect: 'clean',
    note: 'found on the uncommitted replication work: replicate/replicated are never re-sent, so one lost ack holds every later reply of the key behind the output gate, even after the partition heals.',
  },
  {
    name: 'duplicated call envelopes ran their turn twice (before request dedup)',
    seed: 1,
    profile: 'duplication',
    expect: 'clean',
    note: 'fixed by the recent-request table (durability); kept as a regression.',
  },
  {
    name: 'a duplicated call that failed on one copy took effect on the other',
    seed: 7,
    profile: 'full',
    expect: 'clean',
    note: 'fixed: request dedup for turns; then a transfer whose deposit timed out was journaled as failed, so no retry completed it (money created). Fixed by not journaling failures that leave a nested call\'s outcome unknown (CallTimeout, HostUnavailable, ClusterStopped, StaleEpoch): the retry runs again and the deposit, with its derived id, is answered from the callee\'s journal.',
  },
  {
    name: 'a call answered ActivationFailed (corrupt read) took effect through a later duplicate',
    seed: 172,
    profile: 'ci-1',
    expect: 'clean',
    note: 'ActivationFailed and MailboxFull say "not run by this attempt": a later copy, or the caller\'s retry (which must be able to run it), may still run the call, once. They are outcome-unknown errors, like a timeout, and the sim counts them so (scenario "a call answered ActivationFailed may still run through a later copy, once").',
  },
  {
    name: 'a new activation waits forever behind its own passivation (acks routed to the wrong activation)',
    seed: 1,
    profile: 'ci-1',
    expect: 'clean',
    note: 'fixed: Host.handleAck gives a passivating activation with records pending its acks first.',
  },
  {
    name: 'a resent withdraw answered "insufficient funds" by its first copy took effect through its second',
    seed: 711,
    profile: 'ci-1',
    expect: 'clean',
    note: 'fixed: a failed write turn is journaled with its error, so the resend (same id) is answered the same RangeError.',
  },
  {
    name: 'a primary that missed the view removing it kept its stale activation and overwrote the interim primary\'s writes',
    seed: 5,
    profile: 'failover',
    expect: 'clean',
    note: 'fixed (a host that skips a view steps every activation down and recovers on the next call; a resync from a backup that is ahead makes the primary step down). Was: Host.setView kept activations across skipped views; a resync snapshot with a newer epoch overwrites a longer backup log): host-4 paused in view 3, missed view 4 (host-3 primary, seq 43-44 of Counter/c1), adopted view 5 as primary with seq 42 and shipped 43@5 over them. Scenario "a primary that missed a view does not answer from, or overwrite with, its stale state".',
  },
  {
    name: 'a quorum primary that lost its disk recovered from a backup outside the write quorum',
    seed: 50,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a recovery from an empty local copy waits for one more backup). Was: Host.recover counted the empty local copy toward the quorum: host-3 (primary of Counter/c1, quorum, 2 backups) lost its disk, took host-2\'s seq 2 while host-0 held the acknowledged seq 5. Scenario "a quorum primary that lost its disk recovers every acknowledged write".',
  },
  {
    name: 'a resent nested call that had already run was answered Deadlock, a definite failure',
    seed: 130,
    profile: 'full',
    expect: 'clean',
    note: 'clean again since nested calls of a turn are persistent (they never fail the turn on an unknown outcome). The bug this seed first showed is fixed (a request the actor already answered is answered from its journal before any other check). Was: Host.handleCall checked for a call cycle before the request table: transfer #53 on bank1 ran its deposit on bank0 (id .../rj/0, journaled); the reply was lost, and the resend reached bank0 while bank0 ran a transfer waiting on bank1, so it was answered Deadlock instead of the recorded result; the transfer failed with Deadlock (definitely no effect) and rolled back its withdrawal, with the deposit kept.',
  },
  {
    name: 'a host paused in an old view answered a call stamped with a newer epoch from its stale activation',
    seed: 27,
    profile: 'failover',
    expect: 'clean',
    note: 'fixed (a call whose epoch is newer than the host\'s view waits for that view, or is redirected, even when the host thinks it is the primary). Was: host-0 paused in view 3 as primary of Counter/c1, resumed while views 4-6 had moved it, and answered get() with 39 after 54 had been read.',
  },
  {
    name: 'a recovery read whose owners had all answered, but under an older view, waited forever',
    seed: 124,
    profile: 'failover',
    expect: 'clean',
    note: 'fixed (the recovery re-checks its answers against the current owners before asking again). Was: host-3 recovered Counter/c0 in view 5, got host-1\'s answer, then host-0\'s under view 6 (where host-0 was no owner); view 7 made them the owners again, but the check ran only when an answer arrived, so the activation never loaded (liveness).',
  },
  {
    name: 'a primary that had not seen a newer view fed a newer primary\'s shipment to its replica store; its recovery answer then missed its own last write',
    seed: 42,
    profile: 'failover',
    expect: 'clean',
    note: 'fixed (a shipment for a key active on this host is not acknowledged until this host has the view and has stepped down; stepping down drops any warm copy, so a recovery read answers from the journal). Was: host-0, alone in view 7 and primary of Counter/c0, got host-1\'s view-8 snapshot into its replica store (seq 58), wrote seq 59, then answered host-1\'s recovery read with the stale 58: the acknowledged increment(3) was lost.',
  },
  {
    name: 'a host back from a crash pushed its stale copy of an idle actor to the backups and never read theirs',
    seed: 278,
    profile: 'failover',
    expect: 'clean',
    note: 'fixed (re-replication of an idle actor reads the owners first and pushes the furthest copy). Was: host-1 restarted with its disk (Register/r1 at seq 1) as primary; it pushed 1@1 to backups holding 3@4, which kept theirs, so host-1\'s own copy stayed at 1; when both backups left the view, host-1 activated r1 alone from seq 1 and the acknowledged writes v3, v4 were lost.',
  },
  {
    name: 'a host back without its disk into the same view, as primary of an idle actor, was never given that actor back',
    seed: 176,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (on a rejoined message, the backups of each idle actor whose primary is the rejoined host offer it their copy; the primary installs an offered copy only if it goes further than its own). Was: host-1 (primary of Account/a0, strong, 2 backups) crashed without its disk at t=1234 and restarted at t=1630 into the same view 1; its rejoined message made host-2 and host-3 re-replicate only the actors they are primary of, so host-1 held nothing of a0. host-2 (t=2543) and host-3 (t=2896) then lost their disks too (within the fault budget: host-1 had rejoined more than refillMs before), and host-1 activated a0 from three empty copies: the acknowledged deposit(1) was lost.',
  },
  {
    name: 'a host added back without its disk by a view change: its rejoined message arrived before that view and refilled nothing',
    seed: 2323,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a rejoined message for a view a host has not adopted yet waits for that view). Found with the first part of the seed-176 fix (today\'s HEAD runs this seed another way and passes); was: host-0 restarted without its disk into view 8 and became primary of Register/r0 again; host-1 and host-3 got its rejoined message while still in view 7 (where host-0 owned nothing), so nobody offered it r0. host-2 and host-1 later lost their disks too, and host-0 activated r0 from empty copies: the acknowledged cas v0 and write v2 were lost.',
  },
  {
    name: 'the one refill shipment to a backup back without its disk was lost, and the primary\'s log still counted that backup as up to date',
    seed: 1849,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (ActorLog.lost: on a rejoined message a primary forgets the backup\'s acknowledgements and resyncs it until it acknowledges the whole actor). Found with the first part of the seed-176 fix (today\'s HEAD runs this seed another way and passes); was: host-0 (backup of the active Account/bank1 at seq 5) crashed without its disk and rejoined view 5; host-1 shipped it one snapshot, which was lost, and never again (its log had host-0 at seq 5); after pauses took host-1 and host-2 out of the view, host-0 activated bank1 alone without seq 4-5.',
  },
  {
    name: 'an empty warm replica (from a resync of an actor with no record yet) was promoted with no state at all',
    seed: 812,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (Host.load starts from the journal, with the initial state, when the warm replica holds no record). Found with the first part of the seed-176 fix (today\'s HEAD runs this seed another way and passes); was: host-2 resynced Counter/c2 at seq 0 to host-0, which had rejoined without its disk; host-0\'s replica store kept an entry with seq 0 and state undefined, and when host-0 became primary it took that replica: every turn of c2 threw "Cannot read properties of undefined" (ActorFailed until the end: liveness).',
  },
  {
    name: 'a recovery read that never completed kept the furthest copy in memory only; the activation stepped down and the next one started empty',
    seed: 281,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a primary\'s recovery read installs each further copy in its journal as soon as it arrives; a load whose activation stepped down meanwhile starts no log). Found when `rejoined` was first announced three times (the repeat only reschedules the seed); was: host-1 restarted without its disk as primary of Account/a0 (strong, 2 backups) in view 8 and activated a0; its recovery read got 6@6 from host-0 but waited for host-2 (one-way partition, then host-2 crashed without its disk), and the backups\' offered copies were dropped as the key was active. At view 11 (host-1 had missed view 10) a0 stepped down with nothing in host-1\'s journal; the new owners host-2 and host-3 were empty and host-0 no longer an owner: the acknowledged deposits and withdraw of t=4326..6060 were lost.',
  },
  {
    name: 'the one rejoined message of a host back without its disk was lost, so it never got its actors back',
    seed: 1040,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a host back without its disk announces rejoined three times, at replicationRetryMs and twice that; handling a repeat is idempotent: a resync and offers installed only if they go further). Was: the single rejoined message was dropped and the acknowledged writes of the actors it is primary of were lost once their backups lost their disks.',
  },
  {
    name: 'a backup offered its copy to a primary back without its disk while the actor was loading there; the offer was dropped and the read never got the backup\'s answer',
    seed: 233,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (an offered copy that reaches a loading activation goes to its recovery read, which takes it and installs it in the journal if it goes further, like a further copy in an answer; one that arrives before the read begins waits for it). Was: Register/r0 (quorum, 1 backup) wrote v1 on host-2 with backup host-4 in view 2 (acknowledged t=4768). host-0 restarted without its disk and view 3 made it r0\'s primary with host-2 its backup; a call activated r0 on host-0 (t=4956) and host-2 offered its copy 1@2 (t=4977, 5253), dropped since the key was active. The recovery read waited for host-2\'s answer (a corrupt read, then a one-way partition host-2 -> host-0) until host-2 crashed without its disk (t=6248, within the fault budget: host-0 had rejoined more than refillMs before); host-2 came back empty and r0 activated from 0@0: v1 was lost.',
  },
  {
    name: 'a call refused as a Deadlock took effect later, from a copy delayed in the network',
    seed: 16,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a cycle refused at arrival is journaled as a failed turn of its request id, so every later copy gets the same refusal; an activation still loading checks no cycle, since it runs no turn). Was: two transfers Account/bank1 -> bank0 crossed a view change; the deposit of client-0#111 was refused with Deadlock and the transfer failed, but a duplicate of that deposit (same derived id) arrived later at bank0\'s new primary and ran: money created, and a failed call with an effect.',
  },
  {
    name: 'the final reads ran while a transfer a client had given up on was still under way',
    seed: 44,
    profile: 'full',
    expect: 'clean',
    note: 'a checker fix (the liveness phase waits until nothing is on the wire and no host has a call queued or running before the final reads, which are one actor at a time, not a snapshot). Was: client-1 timed out on bank0.transfer during a partition; its resent call arrived after the faults stopped and ran while the final reads went on: bank1 was read before the deposit, bank0 after the withdraw (money "lost").',
  },
  {
    name: 'disk reads still came back corrupt after the faults stopped',
    seed: 123,
    profile: 'full',
    expect: 'clean',
    note: 'a simulation fix (the liveness phase turns corrupt reads off with the other faults). Was: Register/r2\'s primary read a corrupt record on each of the three final-read attempts (ActivationFailed), a liveness violation.',
  },
  {
    name: 'a transfer whose host died after the deposit, its caller gone, was never finished: money created',
    seed: 39,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a write turn journals an intent, durably, before its first call to another actor; until the turn\'s own record follows, its actor\'s next activation runs it again first, with the same request id, so its calls are answered from the callees\' journals; a new primary or an idle sweep activates such an actor at once). Was: bank0.transfer #29 deposited into bank2 (derived id r7/0), then its host crashed before the withdraw was journaled; the client had timed out and never retried. Also seeds 45, 111, 147, 148, 180, 205 of the full profile.',
  },
  {
    name: 'a re-run transfer whose deposit answered ActivationFailed was journaled as failed, though the deposit had run',
    seed: 988,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (ActivationFailed and MailboxFull leave a nested call\'s outcome unknown, like a timeout: a turn failing with them is not journaled, so its intent stays and it runs again). Found with the first version of turn intents.',
  },
  {
    name: 'three transfers in a cycle (bank1 -> bank2 -> bank0 -> bank1) waited on each other forever',
    seed: 347,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a call from another actor\'s turn still queued after callTimeoutMs is refused as a Deadlock, journaled; the arrival check sees only two-actor cycles). Made likely by turn intents (each first call waits for its intent, so the three turns overlapped); also seed 735.',
  },
  {
    name: 'a host that rejoined during a partition counted as refilled after refillMs though no primary could reach it; the last owner with the copy then lost its disk',
    seed: 626,
    profile: 'full',
    expect: 'clean',
    note: 'a simulation fix (the fault budget\'s refill time runs only while no partition splits the hosts: a host still refilling when one starts waits for it to heal, then gets refillMs). Was: Counter/c2 (strong, 1 backup) at seq 2 on host-2 and host-1 (view 2, host-0 down without its disk); host-0 rejoined in view 3 (t=1967) as c2\'s backup during a partition that cut it from host-2 until t=3338, and again from t=3448; its rejoined messages reached host-1 only. host-2 crashed without its disk at t=4174 (host-0 counted refilled), leaving c2 on neither owner of view 3: only on host-1, an owner again in view 4 but not in view 5, whose owners host-2 and host-0 were both empty. The increments acknowledged at t=228, 231 were lost.',
  },
  {
    name: 'the last copy of an actor lost its disk while the backup the budget counted as refilled had been cut off from its primary since it rejoined',
    seed: 690,
    profile: 'full',
    expect: 'clean',
    note: 'the same simulation fix as seed 626. Was: Account/a1 (strong, 2 backups) held deposit(7) (acknowledged t=862) on host-2 and host-0 in view 5; host-4 rejoined as its backup at t=3306 during a partition (t=3068..4452) that cut it from host-2, which crashed without its disk at t=4061; view 6 made the empty host-4 primary, and host-0, the one host left with a copy, crashed without its disk at t=4722 (host-4 counted refilled since t=4306): nothing of the deposit was left anywhere.',
  },
  {
    name: 'the final reads activated an actor whose unfinished turn then ran between two reads',
    seed: 2760,
    profile: 'full',
    expect: 'clean',
    note: 'a checker fix (when any turn ran during a round of final reads, the cluster settles and every key is read again, up to three rounds). Was: bank1.transfer #45 ended StaleEpoch (its host fenced) with its intent journaled; the final read of bank1 activated it and it ran again, its deposit into bank0 after bank0 had been read: money "lost". Also seed 1574.',
  },
  {
    name: 'two unfinished transfers in opposite directions, each queued behind the other while its actor loaded',
    seed: 1275,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a call from a turn that arrives while its actor loads gets the same refusal timer as one that has to wait: still queued after callTimeoutMs, it is refused as a Deadlock, unless its request id turns out to be answered in the journal). Was: bank0 and bank1 each re-ran an unfinished transfer to the other; each deposit had arrived while the callee loaded (no cycle check then) and waited behind the callee\'s own re-run for good.',
  },
  {
    name: 'an idle actor\'s new primary held no copy of it, and a later view kept only that primary',
    seed: 2487,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (after a view change, the backups of an idle actor offer their copy to a primary that owned nothing of it in the view before, as they did only for a host back without its disk). Was: Counter/c1 was written in view 2 on host-2 and host-1 and passivated; view 3 made host-0 (back from a crash, never an owner) its primary, and nobody gave host-0 the copy; view 7 kept host-0 alone (the others paused), which started c1 empty: increment #11, acknowledged at t=1755, was lost. An earlier timing hid it because a client happened to call c1 while host-0 could still read the backups.',
  },
  {
    name: 'every announcement of a host back without its disk was lost on the way to the one peer that held its actor',
    seed: 2312,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a host back without its disk announces it six times instead of three, at doubling intervals). Was: host-3 came back empty in view 7 (29% loss); its three rejoined messages to host-1 were all lost, so host-1 never offered it Counter/c0; host-0 also came back empty; when host-1 crashed without its disk, the owners of view 11 held nothing of c0 (only host-2, no longer an owner, did): three acknowledged increments were lost. Found once the new-primary offers changed the timing.',
  },
  {
    name: 'an unfinished transfer on a busy actor waited for the idle timeout to run again, past the final reads',
    seed: 6325,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (the idle sweep runs an unfinished turn again whenever the actor\'s mailbox is empty, not only once the actor has been idle for idleTimeoutMs). Was: bank0.transfer #311 deposited into bank2, then its call got ActivationFailed (a corrupt read) and the turn answered HostUnavailable with its intent open; bank0 kept serving calls, so the sweep never found it idle, and the final reads (after 3 s of waiting for quiet) read bank2 with the deposit and bank0 without the withdrawal: money "created".',
  },
  {
    name: 'a backup that came back without its disk was never refilled, because the primary that would have done it had died',
    seed: 7209,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (for two views after a host says it came back without its disk, its peers offer it their copies wherever a view makes it primary). Was: host-2 came back empty in view 1 while Register/r1\'s primary, host-1, had crashed without its disk; host-0, the other backup, only re-replicates what it is primary of; view 2 made host-2 r1\'s primary (it had been an owner before, so no offer), and when host-0 crashed without its disk too, r1\'s two acknowledged writes were gone. It failed on the session\'s starting code as well.',
  },
  {
    name: 'a passivating activation whose records waited for acks kept its key from activating again after the view moved it',
    seed: 2238,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a view change fails the pending records of a passivating activation the view moved away, and retargets those of one it keeps, so the passivation ends). Was: Counter/c0 passivated on host-1 with record 3 unacknowledged by host-2 (an ack lost) when host-1 paused; back in view 4 its new activation waited behind that passivation until host-2 resumed, so it never read host-0, the only holder of increment #41 (acknowledged in view 3, where host-0 was alone); host-0 then paused out of view 6 and host-1 went on from seq 3: the increment was lost. Surfaced by the timing of synchronous backup appends.',
  },
  {
    name: 'the final reads began while an active actor still had an unfinished transfer to run again',
    seed: 155,
    profile: 'full',
    expect: 'clean',
    note: 'a checker fix (the cluster counts as quiet only once no active actor has an unfinished turn: the idle sweep runs it again). Was: bank0.transfer #31 deposited into bank1, then its calls failed with ActivationFailed (a corrupt read) and it answered HostUnavailable with its intent open; the final reads came before the idle sweep ran it again: money "created". The in-flight leak fixed in the same session had kept the cluster from ever counting as quiet, which hid this.',
  },
  {
    name: 'another transfer ran between an unfinished transfer and its re-run, which then found the funds gone after its deposit had run',
    seed: 8004,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a write turn that ends with an unknown outcome, its intent open, runs again before any other write turn of its actor, after a doubling delay). Was: bank0.transfer #39 (3 to bank2) and #41 (5 to bank1) each failed with an unknown outcome (their deposits hit corrupt reads), so bank0 rolled back to 6 after each; #39, retried, deposited into bank2 before its host paused; on the next activation #41 ran first (6 -> 1), then #39 ran again, found 1 < 3 and was journaled as failed, its deposit standing: money created.',
  },
  {
    name: 'a backup back without its disk was refilled by nobody: its actor\'s primary had crashed and no view had said so yet',
    seed: 17661,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (when a host says it came back without its disk, every other owner of an idle actor it owns offers it its copy, not only when it is the primary). Was: Account/bank1.deposit(9) was acknowledged in view 8 by host-1 (primary) and host-0; host-1 crashed without its disk; host-2 came back empty in view 9, which still listed host-1 as primary; host-0 offered its copy only to primaries, so when host-0 also lost its disk (after view 10 dropped host-1), the deposit was gone.',
  },
  {
    name: 'a view whose re-replication never ran (the next view came first) left the primary it made without the offer of a copy',
    seed: 14690,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (re-replication checks the views adopted since it last ran, not only the one before: a host one of them made primary of an actor it owned nothing of gets the offer). Was: host-0 alone in view 7 journaled increment #23 of Counter/c0; view 8 made host-1 its primary, but view 9 came before view 8\'s re-replication ran, and view 9\'s compared with view 8 only, where host-1 was an owner already: no offer; host-0 paused out of view 10 and host-1 served c0 without the increment. Surfaced by the warm-replica fix of seed 57351.',
  },
  {
    name: 'a recovery read that outlived its view never carried the reader\'s copy to the owner the next view added back',
    seed: 50979,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (whether the read carries the reader\'s copy is decided at every round of asking, not once). Was: Counter/c1 (strong, replicas 1) began its recovery read on host-4 in view 3, where its copy\'s last record was written, so the read carried no copy; host-3 (its backup) lost its disk and came back in view 5, answered the same read late with nothing, and had installed nothing; host-4 paused before its sync-point resync arrived, and view 6 left host-3 serving c1 empty: four acknowledged increments lost. It failed on the session\'s starting code as well.',
  },
  {
    name: 'a primary\'s re-replication put a further copy in its journal past its warm replica, which then stood in for the journal',
    seed: 57351,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (when the recovery read of an idle actor\'s re-replication installs a further copy in the journal, the host drops its warm replica of the actor, which reloads from the journal). Was: in view 6 host-2, primary of the idle Account/bank0 with a warm copy at seq 4, read host-0\'s seq 5 (transfer #27\'s deposit) into its journal but kept the warm copy; host-0 then lost its disk and got host-2\'s stale offer; bank0\'s activation on host-2 started from seq 4, ran the re-run transfer\'s deposit again, and failed to journal it (seq 5 taken): the transfer failed for good after its deposit had stood, money created.',
  },
  {
    name: 'the nemesis counted a resumed host as refilled while the primary that was refilling it was paused',
    seed: 34321,
    profile: 'full',
    expect: 'clean',
    note: 'a simulation fix (a host\'s refill time in the fault budget runs only while every host is up and unpaused, as it already stopped during partitions). Was: view 3 added host-0 back (stale after a pause); host-1, primary of Account/bank2, resynced it once, the message was lost, and host-1 paused before resending; the budget counted host-0 refilled 1000 ms after its return and let host-2 crash without its disk: deposit(8), acknowledged by host-1 and host-2, was lost.',
  },
  {
    name: 'the nemesis counted a rejoined host as refilled while every shipment to it was being lost',
    seed: 9312,
    profile: 'full',
    expect: 'clean',
    note: 'a simulation fix (a shipment the replication.drop-shipment buggify point loses on its way to a host still refilling gives that host refillMs more of refill time in the fault budget). Was: every shipment to host-1 for 840 ms after it rejoined in view 7 was dropped, including the snapshots host-0 sent each time host-1 answered resync; the budget counted host-1 refilled after refillMs by reachability alone and let the nemesis crash both other holders without their disks.',
  },
  {
    name: 'a restarted host took a delayed answer to its previous incarnation\'s recovery read for the answer to its own',
    seed: 228,
    profile: 'ci',
    expect: 'clean',
    note: 'fixed (a host\'s shipment, ack and read ids begin with its id and a random part new at every start, like its call ids). Was: host-1, back without its disk (incarnation 4), read Register/r1 from host-2 with the id host-1~2; host-2\'s late answer to incarnation 3\'s read of the same id (asked at seq 6, so it carried no copy) arrived first and counted as host-2\'s answer: host-1 started r1 empty and six acknowledged writes were lost. Surfaced by the timing of synchronous backup appends.',
  },
  ...[184, 225, 292].map((seed) => ({
    name: `a transfer whose deposit a full disk refused after shipping it to a backup (seed ${seed})`,
    seed,
    profile: 'full',
    expect: 'clean' as const,
    note: 'fixed (StorageFull and StorageFailed leave a nested call\'s outcome unknown: the transfer, whose intent is journaled, runs again and its deposit is answered from the callee\'s journal). Found by review, then by the disk-full fault the full profile draws since: the primary ships a record to its backups as it writes its own copy, so the record its disk refused came back with the next activation while the transfer had failed for good: money created. Each of these seeds fails without the fix.',
  })),
  ...[17617, 18263, 20967].map((seed) => ({
    name: `the nemesis counted a host as refilled while its disk was full (seed ${seed})`,
    seed,
    profile: 'full',
    expect: 'clean' as const,
    note: 'a simulation fix (refill time in the fault budget stops while any disk is full: the host being refilled cannot store what it is sent). Was (18263): host-0, back without its disk into view 3 as Account/bank1\'s one backup, had a full disk until t=3819; the budget counted it refilled at t=3355 and let host-1, bank1\'s primary, lose its disk at t=3588: two acknowledged writes lost.',
  })),
  {
    name: 'a primary whose disk refused a record it had shipped numbered its next records from the journal',
    seed: 6957,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a log that fails on a storage error with records past what is durable leaves its copy to the next activation on the host, which installs it in the journal before going on). Was: host-0, primary of Register/r0 with a full disk, ran write #117 as seq 9 and shipped it; its disk refused the record and the activation was dropped; the next activation read host-1 (the shipment was still in flight, reordered behind the read), found seq 8, and ran cas #116 as its own seq 9 and the retried #117 as seq 10; host-1 appended the old seq 9 and then seq 10: #117 took effect twice.',
  },
  {
    name: 'after a full disk refused a record, a background recovery read installed it over the record that reused its seq',
    seed: 16991,
    profile: 'full',
    expect: 'clean',
    note: 'fixed by the unjournaled copy of seed 6957: host-0 no longer reuses seq 3 after its disk refused it. (Also abandoning an idle actor\'s re-replication read once the actor activates on its host fixed it, but lost full seed 18416\'s acknowledged write: such a read installs the further copies it finds, which the activation may need; not kept.) Was: host-0\'s disk refused Counter/c1\'s seq 3 (count 10) after shipping it to host-2; rereplication reads started for host-2 kept 3 = 10 as their best copy while host-1 was cut off; c1 activated on host-0 from its journal (seq 2) and journaled the acknowledged increment(4) as its own seq 3 = 11; the partition healed, the stale reads completed and installed 3 = 10 into host-0\'s journal; after both backups lost their disks, c1 reloaded 10 from host-0: the acknowledged write was lost (analysis by a helper session).',
  },
  {
    name: 'an activation started behind a copy its host\'s re-replication read had just installed in the journal',
    seed: 602373,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a copy in the answer to any recovery read of a key reaches every read of that key under way on the host). Was: in view 5 host-1 re-replicated the idle Account/bank2 (pushFurthest) and read host-0\'s seq 9@4 (client-3#88\'s deposit) into its journal; bank2\'s activation had started a moment before from host-1\'s warm copy, 8@3, and its own read waited for host-0, which never answered it; view 6 dropped host-0, host-2 answered 8@3, and the activation ran the retried #88 again from 8@3: the deposit took effect twice. Found by a sweep of full seeds 600,001-602,500; it failed on the code of sessions 7 and 8 too.',
  },
  {
    name: 'a re-replication cut short by a corrupt read forgot the view in which the actor\'s new primary had owned nothing of it',
    seed: 962694,
    profile: 'full',
    expect: 'clean',
    note: 'fixed (a host forgets the views it has not re-replicated only once a re-replication completes; one cut short, by a newer view or a copy it could not read or push, leaves them to the next). Was: in view 3 host-0 was the only host and journaled Counter/c2\'s acknowledged seq 3 and 4 alone; in view 4 host-2 came back as c2\'s primary holding nothing of it, and host-0\'s offer of its copy was skipped because a corrupt read failed its peek; view 5\'s run knew only view 4, where host-2 was an owner, so it offered nothing; host-1 refilled host-2 with its stale 2@2, view 6 dropped host-0, and c2 went on from 2@2: two acknowledged increments lost. Found by a sweep of full seeds 960,001-965,000; it failed on session 9\'s code too.',
  },
]
