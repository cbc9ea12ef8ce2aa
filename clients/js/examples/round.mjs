import { createSolanaRpc } from '@solana/kit';
import { fetchRound, findRoundPda, getFundRoundInstructionAsync } from '@droppin/client';

const rpc = createSolanaRpc(process.env.DROPPIN_RPC_URL ?? 'http://127.0.0.1:8899');
const [round] = await findRoundPda({ id: BigInt(process.argv[2] ?? 1) });
const { data } = await fetchRound(rpc, round);
console.log(`round ${data.id}: pool ${data.pool} lamports, nodes joined: ${data.counts.nodesJoined}`);
// A top-up names the payer, the round and the amount; the IDL derives every other account.
const payer = { address: data.funder }; // any TransactionSigner in a real app
const fund = await getFundRoundInstructionAsync({ payer, round, amount: 100_000_000n });
console.log(`FundRound: ${fund.accounts.length} accounts, ${fund.data.length} bytes of data`);
