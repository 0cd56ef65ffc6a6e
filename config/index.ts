/**
 * Ballast configuration: schema, defaults and messages (`schema.ts`), file I/O (`load.ts`),
 * and an example builder for the devnet (`example.ts`).
 */
export {
  configSchema,
  chainPolicies,
  parseAmount,
  percentToWad,
  CONFIG_DEFAULTS,
  type AmountInput,
  type BallastConfig,
  type BallastConfigInput,
  type ChainConfig,
  type ChainConfigInput,
  type SolanaChainConfig,
} from './schema.js';
export { ConfigError, loadConfig, parseConfig, writeConfigFile, formatPath, formatGot, type ConfigIssue } from './load.js';
export { exampleConfig, type ExampleChain } from './example.js';
export { fixturesDir, fixturePath, repoDir } from './fixtures.js';
