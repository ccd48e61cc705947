/** `@kai-jobs/checkpoint/testing` — the checkpoint store's contract suite for adapters. */
export { runCheckpointStoreContract } from './testing/checkpoint-store-contract.js';
export type { CheckpointStoreContractHarness } from './testing/checkpoint-store-contract.js';
