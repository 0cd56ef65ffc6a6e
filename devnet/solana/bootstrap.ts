/**
 * Devnet Solana bootstrap helpers: create an SPL mint, token accounts and mint tokens with REAL transactions built
 * by @solana/web3.js + @solana/spl-token and sent through a web3.js `Connection` (to the devnet RPC of
 * devnet/solana/rpcServer.ts or any Solana node), so the bootstrap exercises the very path the keeper uses.
 * All amounts are bigint base units; every helper waits for confirmation (`sendAndConfirmTransaction`).
 */
import { Keypair, SystemProgram, Transaction, sendAndConfirmTransaction, type Connection, type PublicKey } from '@solana/web3.js';
import {
  ACCOUNT_SIZE, MINT_SIZE, TOKEN_PROGRAM_ID,
  createInitializeAccount3Instruction, createInitializeMint2Instruction, createMintToInstruction,
} from '@solana/spl-token';

/**
 * Create and initialize an SPL Token mint (no freeze authority), rent-exempt, paid by `payer`.
 * @param decimals - the mint's decimals (config asset.decimals)
 * @param mintKeypair - the mint's address keypair (a fresh one when absent)
 * @returns the mint address
 * @throws SendTransactionError (with logs) when the transaction fails, e.g. the payer lacks lamports
 */
export async function createSplMint(connection: Connection, payer: Keypair, mintAuthority: PublicKey, decimals: number, mintKeypair: Keypair = Keypair.generate()): Promise<PublicKey> {
  const lamports = await connection.getMinimumBalanceForRentExemption(MINT_SIZE);
  const tx = new Transaction().add(
    SystemProgram.createAccount({ fromPubkey: payer.publicKey, newAccountPubkey: mintKeypair.publicKey, space: MINT_SIZE, lamports, programId: TOKEN_PROGRAM_ID }),
    createInitializeMint2Instruction(mintKeypair.publicKey, decimals, mintAuthority, null, TOKEN_PROGRAM_ID),
  );
  await sendAndConfirmTransaction(connection, tx, [payer, mintKeypair]);
  return mintKeypair.publicKey;
}

/**
 * Create and initialize an SPL token account (not an associated token account) for `mint`, owned by `owner`.
 * @param accountKeypair - the token account's address keypair (a fresh one when absent)
 * @returns the token account address
 * @throws SendTransactionError (with logs) when the transaction fails, e.g. the mint does not exist
 */
export async function createTokenAccount(connection: Connection, payer: Keypair, mint: PublicKey, owner: PublicKey, accountKeypair: Keypair = Keypair.generate()): Promise<PublicKey> {
  const lamports = await connection.getMinimumBalanceForRentExemption(ACCOUNT_SIZE);
  const tx = new Transaction().add(
    SystemProgram.createAccount({ fromPubkey: payer.publicKey, newAccountPubkey: accountKeypair.publicKey, space: ACCOUNT_SIZE, lamports, programId: TOKEN_PROGRAM_ID }),
    createInitializeAccount3Instruction(accountKeypair.publicKey, mint, owner, TOKEN_PROGRAM_ID),
  );
  await sendAndConfirmTransaction(connection, tx, [payer, accountKeypair]);
  return accountKeypair.publicKey;
}

/**
 * Mint `amount` base units of `mint` to the token account `destination`; `authority` is the mint authority.
 * @returns the transaction signature (base58)
 * @throws SendTransactionError (with logs) when the transaction fails, e.g. a wrong authority
 */
export async function mintTo(connection: Connection, payer: Keypair, mint: PublicKey, destination: PublicKey, authority: Keypair, amount: bigint): Promise<string> {
  if (amount < 0n) throw new Error(`mintTo: amount must be >= 0 base units, got ${amount}`);
  const tx = new Transaction().add(createMintToInstruction(mint, destination, authority.publicKey, amount, [], TOKEN_PROGRAM_ID));
  const signers = authority.publicKey.equals(payer.publicKey) ? [payer] : [payer, authority];
  return sendAndConfirmTransaction(connection, tx, signers);
}
