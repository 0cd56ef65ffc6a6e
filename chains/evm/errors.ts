/**
 * Typed errors of the EVM adapter. Activities translate them into Temporal failures:
 * a revert is deterministic (non-retryable), a transport error is not.
 */
import { BaseError, ContractFunctionRevertedError } from 'viem';

/** A contract call reverted (in simulation or on chain). `errorName` is the decoded custom error, when known. */
export class ContractRevertError extends Error {
  override readonly name = 'ContractRevertError';
  constructor(
    readonly chainKey: string,
    readonly functionName: string,
    readonly errorName: string | undefined,
    readonly errorArgs: readonly unknown[] | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A multicall read where some calls failed: the snapshot of that chain is unusable (fail closed). */
export class PartialReadError extends Error {
  override readonly name = 'PartialReadError';
  constructor(
    readonly chainKey: string,
    readonly failed: string[],
  ) {
    super(`${chainKey}: multicall read failed for ${failed.join(', ')}; no plan on a partial snapshot`);
  }
}

/**
 * If `err` is a viem revert, returns a {@link ContractRevertError} naming the custom error and its args;
 * otherwise returns undefined (transport errors, timeouts: retryable).
 */
export function asRevert(err: unknown, chainKey: string, functionName: string): ContractRevertError | undefined {
  if (!(err instanceof BaseError)) return undefined;
  const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError)) return undefined;
  const errorName = revert.data?.errorName ?? (revert.reason ? 'Error' : undefined);
  const errorArgs = revert.data?.args;
  const detail = errorName
    ? `${errorName}(${(errorArgs ?? []).map((a) => String(a)).join(', ')})`
    : (revert.reason ?? revert.shortMessage);
  return new ContractRevertError(chainKey, functionName, errorName, errorArgs, `${chainKey}: ${functionName} reverted: ${detail}`);
}
