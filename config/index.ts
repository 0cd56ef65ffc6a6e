/**
 * Ballast configuration: schema, defaults and messages (`schema.ts`), file I/O (`load.ts`), amounts in token units
 * (`amounts.ts`), `${NAME}` substitution and `BALLAST_TEMPORAL_*` overrides (`env.ts`), and an example builder for
 * the devnet (`example.ts`).
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
export { ConfigError, loadConfig, parseConfig, writeConfigFile, formatPath, formatGot, type ConfigIssue, type LoadConfigOptions } from './load.js';
export { convertAmounts, isTokenUnits, parseAmountWithUnits, type AmountIssue, type AssetUnits } from './amounts.js';
export { applyEnvOverrides, substituteEnv, TEMPORAL_ENV_OVERRIDES, type Env, type EnvIssue, type EnvOverride } from './env.js';
export { exampleConfig, type ExampleChain } from './example.js';
export { fixturesDir, fixturePath, repoDir } from './fixtures.js';
