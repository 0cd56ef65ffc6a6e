/**
 * Translation of adapter errors into Temporal failures, chosen on purpose:
 * - a contract revert is deterministic: non-retryable (`ContractRevert`), the saga decides;
 * - a delivery not there yet is the normal wait: retryable (`DeliveryPending`);
 * - anything else (RPC down, timeout, nonce race) is retryable with the activity's policy.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ContractRevertError } from '../chains/evm/errors.js';

/** Failure types the workflows name in their retry policies. */
export const FailureType = {
  ContractRevert: 'ContractRevert',
  DeliveryPending: 'DeliveryPending',
  Config: 'ConfigError',
} as const;

/** Runs `fn`; rethrows a revert as a non-retryable `ContractRevert` failure carrying the decoded error name. */
export async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ContractRevertError) {
      throw ApplicationFailure.create({
        type: FailureType.ContractRevert,
        message: err.message,
        nonRetryable: true,
        details: [{ chainKey: err.chainKey, functionName: err.functionName, errorName: err.errorName ?? null }],
      });
    }
    throw err;
  }
}
