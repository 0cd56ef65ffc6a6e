/**
 * Anvil's well-known development accounts (mnemonic "test test ... junk"). PUBLIC TEST KEYS:
 * they exist only for the local devnet and tests; production keys come from the environment
 * (`BALLAST_KEEPER_PRIVATE_KEY`) or a keystore file, never from code.
 */
import type { Hex } from 'viem';

export const DEVNET_ACCOUNTS = {
  /** Deploys and administers the devnet contracts (anvil account 0). */
  deployer: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as Hex,
  /** The keeper's hot key (anvil account 1); holds KEEPER_ROLE only. */
  keeper: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' as Hex,
  /** The devnet LayerZero relayer, playing DVN + executor (anvil account 2). */
  relayer: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a' as Hex,
  /** The market driver: supplier and borrower replaying real history (anvil account 3). */
  market: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6' as Hex,
} as const;

/**
 * The Wormhole devnet guardian's key. PUBLIC TEST KEY: Wormhole's own well-known devnet (Tilt) guardian,
 * the key behind `mocks.devnetGuardianSet()` of `@wormhole-foundation/sdk-definitions/testing`
 * (address 0xbeFA429d57cD18b7F8A4d91A2da9AB4AF05d0FBe). deployDevnet makes it the one-guardian set of
 * every devnet core contract; the devnet guardian service (devnet/guardian.ts) signs VAAs with it.
 */
export const DEVNET_WORMHOLE_GUARDIAN_KEY = '0xcfb12303a19cde580bb4dd771639b0d26bc68353645571a8cff516ab2ee113a0' as Hex;
