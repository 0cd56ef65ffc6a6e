/**
 * Solana program ids Ballast refers to, in a module of their own so the config can name them without loading the
 * decoders (Anchor).
 */

/** The Pyth Solana Receiver program (mainnet and devnet), owner of the `PriceUpdateV2` accounts it posts. */
export const PYTH_RECEIVER_PROGRAM_ID = 'rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ';
