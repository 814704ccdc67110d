export { HistoryRecorder, describeOp, formatValue, partitionByKey, precedes } from './history.ts'
export type { Id, Invocation, Operation, OpStatus } from './history.ts'
export { accountModel, counterModel, registerModel, sameValue } from './models.ts'
export type { AccountInput, Call, CounterInput, Model, RegisterInput, StepResult } from './models.ts'
export { checkKey, checkLinearizability } from './linearizability.ts'
export type { KeyVerdict, LinearizabilityOptions, LinearizabilityResult, Verdict } from './linearizability.ts'
export {
  checkCounterFinal,
  checkExactlyOnce,
  checkRegisterFinal,
  checkSingleActivation,
} from './invariants.ts'
export type {
  ActivationEvent,
  CounterFinalOptions,
  EffectEvent,
  InvariantName,
  RegisterFinalOptions,
  Violation,
} from './invariants.ts'
export { CheckerAssertionError } from './assert.ts'
export { bruteForceLinearizable } from './brute-force.ts'
