/**
 * `ballast deploy`: deploys (when absent) and wires Ballast's contracts on every EVM chain of a config file, against
 * the chain's existing LayerZero (EndpointV2, SendUln302 / ReceiveUln302, DVNs, executor), Wormhole core and Aave Pool.
 *
 * Two phases, each planned from the chain's state before anything is sent:
 * 1. deploys: what the config leaves out (deploy/config.ts) and the CreditMessenger when the vault names none;
 * 2. wiring: every setting that differs from the config (deploy/plan.ts), read after phase 1.
 * Dry-run (the default) sends nothing: phase 1's addresses are predicted from the signer's nonce and new contracts
 * read as empty. `execute` sends each transaction after simulating it, one chain's in order and the chains in
 * parallel, then re-reads everything: `remaining` counts what still differs (0 when wired as configured). Run again,
 * it sends nothing.
 */
import { getContractAddress, isAddressEqual, zeroAddress, type Account, type Address, type Chain, type Hex, type Transport, type WalletClient } from 'viem';
import { createEvmClients } from '../chains/evm/clients.js';
import { estimateWithHeadroom } from '../chains/evm/writeContract.js';
import { multicall3Bytecode } from '../devnet/deploy.js';
import { loadDeployConfig, writeAddresses, type DeployedAddresses, type DeployableRole } from './config.js';
import { planDeploys, planWiring, type ChainAddresses, type ChainInput, type DeployPhase, type DeployTx, type DeployedRole, type PeerChain, type PlannedTx } from './plan.js';

/** Options of {@link runDeploy}. */
export interface RunDeployOptions {
  /** The config file (YAML or JSON; deploy/config.ts says what may be absent). */
  configFile: string;
  /** Send the transactions (default: dry-run, nothing is sent). */
  execute?: boolean;
  /** The signing account; required with `execute`. */
  account?: Account;
  /** The sender of a dry-run without a key (its nonces predict the new addresses); default `account`'s address. */
  from?: Address;
  /** Where `${NAME}` in the config is read from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (each transaction sent: hash and receipt status). */
  log?: (line: string) => void;
  /** With `execute`: write the config with the new contracts' addresses to this file (may be `configFile`). */
  writeConfig?: string;
  /** How often receipts are polled, ms (default 1000; tests on anvil use less). */
  pollingIntervalMs?: number;
}

/** One chain of a {@link DeployResult}. */
export interface DeployChainResult {
  chainKey: string;
  chainId: number;
  eid: number;
  /** Every Ballast address (a dry-run's new ones predicted). */
  addresses: ChainAddresses;
  /** Contracts deployed (dry-run: to deploy) by this run. */
  deployed: DeployedRole[];
}

/** What {@link runDeploy} planned and did. */
export interface DeployResult {
  mode: 'dry-run' | 'execute';
  signer: Address;
  chains: DeployChainResult[];
  /** Every transaction planned, in sending order per chain (with `hash` and `status` once sent). */
  transactions: DeployTx[];
  /** Transactions sent (0 in a dry-run, and when everything already matched). */
  sent: number;
  /** `execute`: transactions still needed after re-reading the chains (0 = wired as configured). */
  remaining?: number;
  /** New addresses to put in the config (the fragment `addressesFragment` renders). */
  newAddresses: DeployedAddresses;
  /** The file the config with the new addresses was written to. */
  wroteConfig?: string;
}

/** A sent transaction that failed, or a simulation that refused it: names the chain, the call and the cause. */
export class DeployTxError extends Error {
  override readonly name = 'DeployTxError';
  constructor(
    readonly chainKey: string,
    readonly tx: DeployTx,
    message: string,
  ) {
    super(message);
  }
}

type Wallet = WalletClient<Transport, Chain, Account>;

interface ChainRuntime extends ChainInput {
  wallet?: Wallet;
  absent: DeployableRole[];
  confirmations: number;
  receiptTimeoutMs: number;
}

/** `Contract.function(args)` with bigints and structs printable. */
export function describeTx(tx: DeployTx): string {
  const arg = (v: unknown): string => (typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
  const args = tx.kind === 'deploy' ? tx.args.map(arg).join(', ') : tx.args.map(arg).join(', ');
  return tx.kind === 'deploy' ? `deploy ${tx.contract}(${args}) -> ${tx.target}` : `${tx.contract}(${tx.target}).${tx.functionName}(${args})`;
}

const errText = (err: unknown) => (err as { shortMessage?: string }).shortMessage ?? (err instanceof Error ? err.message.split('\n')[0]! : String(err));

/**
 * Sends `txs` on one chain in order: each simulated first (a deploy: `eth_call` of its creation code), its gas
 * estimated with headroom, sent, and its receipt awaited (`confirmations` blocks). A deploy's address must be the
 * predicted one (else another sender used the key meanwhile and the plan is void).
 * @throws DeployTxError naming the chain and the call when a simulation refuses it, the receipt is `reverted`, or a
 *   deploy lands elsewhere than predicted; nothing after it is sent.
 */
async function sendAll(rt: ChainRuntime, txs: PlannedTx[], log: (line: string) => void, pollingInterval: number): Promise<number> {
  const { pub, wallet, chain } = rt;
  if (!wallet) throw new Error(`chain "${chain.key}": no signing account to execute with`);
  let sent = 0;
  for (const tx of txs) {
    const what = describeTx(tx);
    let hash: Hex;
    try {
      if (tx.kind === 'deploy') {
        await pub.call({ account: wallet.account, data: tx.data });
        const nonce = await pub.getTransactionCount({ address: wallet.account.address, blockTag: 'pending' });
        const lands = getContractAddress({ from: wallet.account.address, nonce: BigInt(nonce) });
        if (!isAddressEqual(lands, tx.target)) throw new Error(`it would land at ${lands}, not the planned ${tx.target} (the signer's nonce moved: another sender uses the key?); run again`);
        hash = await wallet.sendTransaction({ data: tx.data, nonce });
      } else {
        const { request } = await pub.simulateContract({ account: wallet.account, address: tx.target, abi: tx.abi, functionName: tx.functionName, args: tx.args as unknown[] });
        hash = await wallet.writeContract({ ...request, gas: await estimateWithHeadroom(pub, request) } as Parameters<Wallet['writeContract']>[0]);
      }
    } catch (err) {
      throw new DeployTxError(chain.key, tx, `chain "${chain.key}": ${what} refused before sending (simulation): ${errText(err)}; ${sent} transaction(s) were sent on this chain before it`);
    }
    tx.hash = hash;
    const receipt = await pub.waitForTransactionReceipt({ hash, confirmations: rt.confirmations, timeout: rt.receiptTimeoutMs, pollingInterval });
    tx.status = receipt.status;
    sent++;
    log(`[${chain.key}] ${what}: tx ${hash} ${receipt.status}`);
    if (receipt.status !== 'success') throw new DeployTxError(chain.key, tx, `chain "${chain.key}": ${what} reverted (tx ${hash})`);
    if (tx.kind === 'deploy' && (!receipt.contractAddress || !isAddressEqual(receipt.contractAddress, tx.target))) {
      throw new DeployTxError(chain.key, tx, `chain "${chain.key}": ${tx.contract} landed at ${receipt.contractAddress ?? 'no address'}, not the predicted ${tx.target}: another sender used the key meanwhile; run again (the config does not name it yet)`);
    }
  }
  return sent;
}

const peersOf = (rts: ChainRuntime[], phases: DeployPhase[], i: number): PeerChain[] =>
  rts.flatMap((o, j) =>
    j === i ? [] : [{ chainKey: o.chain.key, eid: o.chain.eid, ...(o.chain.wormhole ? { whChainId: o.chain.wormhole.chainId } : {}), addresses: phases[j]!.addresses, confirmations: o.deploy.layerzero.confirmations }],
  );

/** `tx` without what only sending needs (the ABI, the creation code). */
const publicTx = ({ abi: _abi, bytecode: _bytecode, auth: _auth, role: _role, ...tx }: PlannedTx): DeployTx => tx;

/** Per chain, the addresses of the roles the config left out (deployed, or predicted in a dry-run). */
function collectNewAddresses(rts: ChainRuntime[], phases: DeployPhase[]): DeployedAddresses {
  const out: DeployedAddresses = {};
  rts.forEach((rt, i) => {
    const a = phases[i]!.addresses;
    const roles: Partial<Record<DeployableRole, string>> = {};
    for (const role of rt.absent) {
      const address = role === 'wormholeAdapter' ? a.wormholeAdapter : role === 'aaveAllocator' ? a.aaveAllocator : a[role];
      if (address) roles[role] = address;
    }
    if (Object.keys(roles).length > 0) out[rt.chain.key] = roles;
  });
  return out;
}

/**
 * Plans (and with `execute`, sends) the deployment and wiring of every EVM chain of `opts.configFile`.
 * @throws ConfigError for an invalid config (every issue, naming the file); Error naming the chain when its RPC reports
 *   another chain id, a configured address has no code, a library does not support a peer's eid, or the signer lacks
 *   the authority a needed transaction takes; {@link DeployTxError} when a transaction is refused or reverts (the
 *   transactions before it stay sent: run again to finish, after fixing the cause).
 * @example
 *   const r = await runDeploy({ configFile: 'ballast.yaml', from: '0x…' }); // dry-run
 *   r.transactions.length; // what --execute would send
 *   await runDeploy({ configFile: 'ballast.yaml', execute: true, account, writeConfig: 'ballast.yaml' });
 */
export async function runDeploy(opts: RunDeployOptions): Promise<DeployResult> {
  const log = opts.log ?? (() => {});
  const execute = opts.execute === true;
  if (execute && !opts.account) throw new Error('ballast deploy --execute needs the deployer key (--key-env or --keystore)');
  const signer = opts.account?.address ?? opts.from;
  if (!signer) throw new Error('ballast deploy needs the sender: the deployer key (--key-env / --keystore), or --from <address> for a dry-run');
  const pollingInterval = opts.pollingIntervalMs ?? 1000;
  const { config, absent, file } = loadDeployConfig(opts.configFile, opts.env);

  const rts: ChainRuntime[] = config.chains.map((chain) => {
    const clients = createEvmClients({ chainKey: chain.key, chainId: chain.chainId, rpcUrl: chain.rpcUrl, rpcUrls: chain.rpcUrls, multicall3: zeroAddress }, execute ? opts.account : undefined);
    return {
      chain,
      deploy: chain.deploy!,
      pub: clients.publicClient,
      ...(clients.walletClient ? { wallet: clients.walletClient } : {}),
      signer,
      absent: absent[chain.key] ?? [],
      confirmations: chain.confirmations,
      receiptTimeoutMs: chain.receiptTimeoutSec * 1000,
    };
  });
  const transactions: PlannedTx[] = [];
  let sent = 0;

  // Phase 1: deploys.
  const phases = await Promise.all(rts.map((rt) => planDeploys(rt, rt.absent, multicall3Bytecode)));
  phases.forEach((p) => transactions.push(...p.deploys));
  if (execute) sent += (await Promise.all(rts.map((rt, i) => sendAll(rt, phases[i]!.deploys, log, pollingInterval)))).reduce((x, y) => x + y, 0);
  const newAddresses = collectNewAddresses(rts, phases);
  let wroteConfig: string | undefined;
  // Written before the wiring: should a wiring transaction fail, the next run knows what exists.
  if (execute && opts.writeConfig && Object.keys(newAddresses).length > 0) {
    writeAddresses(file, opts.writeConfig, newAddresses);
    wroteConfig = opts.writeConfig;
  }
  // Executed, the new contracts exist: phase 2 reads them as they are.
  const wiringPhases: DeployPhase[] = execute ? phases.map((p) => ({ ...p, fresh: new Set() })) : phases;

  // Phase 2: wiring.
  const wiring = await Promise.all(rts.map((rt, i) => planWiring(config, rt, wiringPhases[i]!, peersOf(rts, phases, i))));
  wiring.forEach((w) => transactions.push(...w));
  let remaining: number | undefined;
  if (execute) {
    sent += (await Promise.all(rts.map((rt, i) => sendAll(rt, wiring[i]!, log, pollingInterval)))).reduce((x, y) => x + y, 0);
    const again = await Promise.all(rts.map((rt, i) => planWiring(config, rt, wiringPhases[i]!, peersOf(rts, phases, i))));
    remaining = again.reduce((n, w) => n + w.length, 0);
  }

  return {
    mode: execute ? 'execute' : 'dry-run',
    signer,
    chains: rts.map((rt, i) => ({ chainKey: rt.chain.key, chainId: rt.chain.chainId, eid: rt.chain.eid, addresses: phases[i]!.addresses, deployed: [...phases[i]!.fresh] })),
    transactions: transactions.map(publicTx),
    sent,
    ...(remaining !== undefined ? { remaining } : {}),
    newAddresses,
    ...(wroteConfig ? { wroteConfig } : {}),
  };
}
