/**
 * The keeper's signing key: from the environment only (a keystore file comes later). Never logged.
 */
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { BallastConfig } from '../config/index.js';

/**
 * Reads the private key from the environment variable named by `config.keeper.privateKeyEnv`
 * (default `BALLAST_KEEPER_PRIVATE_KEY`).
 * @throws Error naming the variable (never the value) when it is unset or not a 32-byte hex key.
 */
export function loadKeeperAccount(config: BallastConfig, env: NodeJS.ProcessEnv = process.env): PrivateKeyAccount {
  if (config.keeper.keystoreFile) {
    throw new Error(`keeper.keystoreFile (${config.keeper.keystoreFile}): encrypted keystores are not supported yet; set ${config.keeper.privateKeyEnv} instead`);
  }
  const name = config.keeper.privateKeyEnv;
  const raw = env[name]?.trim();
  if (!raw) throw new Error(`the keeper's private key is not set: export ${name}=0x… (64 hex digits)`);
  const hex = raw.startsWith('0x') ? raw : `0x${raw}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`${name} is not a 32-byte hex private key (value not shown)`);
  return privateKeyToAccount(hex as `0x${string}`);
}
