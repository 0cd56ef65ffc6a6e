/**
 * Simulate, then send, then wait for the receipt: the only way Ballast writes to a chain.
 */
import type { Abi, ContractFunctionArgs, ContractFunctionName, Hash, TransactionReceipt, Address } from 'viem';
import type { EvmClients } from './clients.js';
import { asRevert, ContractRevertError } from './errors.js';

export interface WriteParams<abi extends Abi, fn extends ContractFunctionName<abi, 'nonpayable' | 'payable'>> {
  clients: EvmClients;
  address: Address;
  abi: abi;
  functionName: fn;
  args: ContractFunctionArgs<abi, 'nonpayable' | 'payable', fn>;
  /** Native value in wei (payable functions). */
  value?: bigint;
  /** Confirmations to wait for (default 1). */
  confirmations?: number;
  /** Receipt wait timeout (default 60 s). */
  timeoutMs?: number;
  /**
   * Extra custom-error definitions used to decode a revert that comes from a contract called by
   * `address` (e.g. the vault reverting inside a route call).
   */
  errorsAbi?: Abi;
}

export interface WriteResult {
  txHash: Hash;
  receipt: TransactionReceipt;
  /** The simulated return value. */
  result: unknown;
}

/**
 * Simulates `functionName` with the wallet's account, sends it only if the simulation passed,
 * and waits for the receipt.
 * @throws ContractRevertError when the simulation reverts or the mined transaction has status `reverted`
 *   (the decoded custom error is in the message); other errors (transport, timeout) propagate as they are.
 * @example
 *   const { receipt } = await simulateAndWrite({ clients, address: vault, abi: collateralVaultAbi,
 *     functionName: 'withdrawToRoute', args: [rebalanceId, 1_000_000n] });
 */
export async function simulateAndWrite<abi extends Abi, fn extends ContractFunctionName<abi, 'nonpayable' | 'payable'>>(
  p: WriteParams<abi, fn>,
): Promise<WriteResult> {
  const wallet = p.clients.walletClient;
  if (!wallet) throw new Error(`${p.clients.chainKey}: no signing account configured; cannot call ${p.functionName}`);
  let request: unknown;
  let result: unknown;
  try {
    // viem's generic parameter types are too deep to express here; the public signature above is typed.
    const sim = await p.clients.publicClient.simulateContract({
      address: p.address,
      abi: p.errorsAbi ? [...p.abi, ...p.errorsAbi] : p.abi,
      functionName: p.functionName,
      args: p.args,
      account: wallet.account,
      value: p.value,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
    } as any);
    request = sim.request;
    result = sim.result;
  } catch (err) {
    throw asRevert(err, p.clients.chainKey, p.functionName) ?? err;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const txHash = await wallet.writeContract(request as any);
  const receipt = await p.clients.publicClient.waitForTransactionReceipt({
    hash: txHash,
    confirmations: p.confirmations ?? 1,
    timeout: p.timeoutMs ?? 60_000,
  });
  if (receipt.status !== 'success') {
    throw new ContractRevertError(p.clients.chainKey, p.functionName, undefined, undefined, `${p.clients.chainKey}: ${p.functionName} mined but reverted (tx ${txHash})`);
  }
  return { txHash, receipt, result };
}
