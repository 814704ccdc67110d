/**
 * State tracking: each turn runs on a copy-on-write draft of the actor's state and yields the
 * patch the journal records; `applyPatch` replays such patches on a backup or at activation.
 */
export { assertJournalable, beginTurn, journalableCopy, StateTurn } from './turn.ts'
export { applyPatch, type Patch, type PatchOp, type PathKey } from './patch.ts'
export { formatPath, kindOf, type SetMember, type ValueKind } from './values.ts'
export { resolveDrafts } from './resolve.ts'
export { readOnlyTarget, readOnlyView } from './read-only.ts'
