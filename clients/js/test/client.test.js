// The generated client against a local network whose accounts the Rust CLI wrote: it decodes
// them, lands a FundRound it built and signed itself, and names the program's error for an
// instruction sent in the wrong phase. The Rust test `js_client` starts the network and passes
// what it made in the environment.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const kit = require('@solana/kit');
const droppin = require('../dist');

const env = name => {
    const value = process.env[name];
    assert.ok(value, `${name} is not set: run this through the js_client test`);
    return value;
};

const rpc = kit.createSolanaRpc(env('DROPPIN_RPC_URL'));
const round = kit.address(env('DROPPIN_ROUND'));

async function payer() {
    const bytes = Uint8Array.from(JSON.parse(readFileSync(env('DROPPIN_PAYER_KEYPAIR'), 'utf8')));
    return kit.createKeyPairSignerFromBytes(bytes);
}

/** Signs `instruction` with `signer` (the fee payer) and sends it; resolves once confirmed. */
async function send(signer, instruction) {
    const { value: blockhash } = await rpc.getLatestBlockhash().send();
    const message = kit.pipe(
        kit.createTransactionMessage({ version: 0 }),
        m => kit.setTransactionMessageFeePayerSigner(signer, m),
        m => kit.setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
        m => kit.appendTransactionMessageInstruction(instruction, m),
    );
    const transaction = await kit.signTransactionMessageWithSigners(message);
    const wire = kit.getBase64EncodedWireTransaction(transaction);
    try {
        const signature = await rpc.sendTransaction(wire, { encoding: 'base64', preflightCommitment: 'confirmed' }).send();
        for (let attempt = 0; attempt < 120; attempt++) {
            const { value } = await rpc.getSignatureStatuses([signature]).send();
            const status = value[0];
            if (status?.err) throw new Error(`transaction failed: ${JSON.stringify(status.err)}`);
            if (status?.confirmationStatus === 'confirmed' || status?.confirmationStatus === 'finalized') {
                return signature;
            }
            await new Promise(resolve => setTimeout(resolve, 250));
        }
        throw new Error(`transaction ${signature} was not confirmed`);
    } catch (error) {
        // The caller reads program errors against the message that failed.
        error.transactionMessage = message;
        throw error;
    }
}

test('decodes the config the CLI initialized', async () => {
    const [configAddress] = await droppin.findProtocolConfigPda();
    const config = await droppin.fetchProtocolConfig(rpc, configAddress);
    assert.equal(config.data.accountType, droppin.AccountType.Config);
    assert.equal(config.data.version, 1);
    assert.equal(config.data.admin, env('DROPPIN_ADMIN'));
    assert.equal(config.data.treasury, (await droppin.findTreasuryPda())[0]);
    assert.ok(config.data.roundCount >= 1n);
});

test('decodes a round the CLI opened, at the PDA of its id', async () => {
    const { data } = await droppin.fetchRound(rpc, round);
    assert.equal(data.accountType, droppin.AccountType.Round);
    assert.equal(data.funder, env('DROPPIN_FUNDER'));
    assert.equal(data.currency, droppin.Currency.Sol);
    assert.equal(data.status, droppin.RoundStatus.Open);
    assert.equal(data.vault, (await droppin.findVaultPda({ round }))[0]);
    assert.equal((await droppin.findRoundPda({ id: data.id }))[0], round);
    assert.ok(data.pool > 0n);
    assert.equal(data.modelCid.length, 36);
});

test("decodes the node state the CLI's node created, at its seed address", async () => {
    const node = kit.address(env('DROPPIN_NODE'));
    // The IDL's docs: 'n' then the node key's lowercase hex, cut to 32 characters.
    const hex = Buffer.from(kit.getAddressEncoder().encode(node)).toString('hex');
    const nodeState = await kit.createAddressWithSeed({
        baseAddress: round,
        programAddress: droppin.DROPPIN_PROGRAM_ADDRESS,
        seed: `n${hex}`.slice(0, 32),
    });
    const { data } = await droppin.fetchNodeState(rpc, nodeState);
    assert.equal(data.accountType, droppin.AccountType.Node);
    assert.equal(data.round, round);
    assert.equal(data.node, node);
    assert.equal(data.index, 0);
    assert.ok(data.stake > 0n);
});

test('lands a FundRound built by the generated builder and signed here', async () => {
    const signer = await payer();
    const before = (await droppin.fetchRound(rpc, round)).data;
    const amount = 50_000_000n;
    // Only the payer, the round and the amount: the vault, treasury and contribution PDAs and
    // the system program come from the IDL's defaults.
    const instruction = await droppin.getFundRoundInstructionAsync({ payer: signer, round, amount });
    await send(signer, instruction);
    const after = (await droppin.fetchRound(rpc, round)).data;
    const fee = after.feePaid - before.feePaid;
    assert.equal(fee, (amount * BigInt(before.terms.feeBps)) / 10_000n);
    assert.equal(after.pool - before.pool, amount - fee);
    const [contributionAddress] = await droppin.findContributionPda({ round, payer: signer.address });
    const contribution = await droppin.fetchContribution(rpc, contributionAddress);
    assert.equal(contribution.data.payer, signer.address);
    assert.equal(contribution.data.amount, amount - fee);
});

test("names the program's error for an instruction sent in the wrong phase", async () => {
    const signer = await payer();
    // The round is still training: nothing has timed out.
    const instruction = droppin.getCrankTimeoutInstruction({ round });
    const error = await send(signer, instruction).then(
        () => assert.fail('a live round cannot time out'),
        error => error,
    );
    // The node rejects it in preflight; the instruction's own error is the cause.
    assert.ok(
        kit.isSolanaError(error, kit.SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE),
        `not a preflight failure: ${error}`,
    );
    const cause = error.cause;
    assert.ok(
        droppin.isDroppinError(cause, error.transactionMessage, droppin.DROPPIN_ERROR__NO_TIMEOUT),
        `not the program's NoTimeout: ${cause}`,
    );
    const code = cause.context.code;
    const name = Object.keys(droppin).find(key => key.startsWith('DROPPIN_ERROR__') && droppin[key] === code);
    assert.equal(name, 'DROPPIN_ERROR__NO_TIMEOUT');
    assert.equal(droppin.getDroppinErrorMessage(code), 'no timeout has been reached: the round is still live');
});

test("the README's example runs as written", async () => {
    const { data } = await droppin.fetchRound(rpc, round);
    const { execFileSync } = require('node:child_process');
    const output = execFileSync(process.execPath, ['examples/round.mjs', String(data.id)], {
        cwd: require('node:path').join(__dirname, '..'),
        encoding: 'utf8',
    });
    assert.match(output, new RegExp(`round ${data.id}: pool ${data.pool} lamports, nodes joined: 1`));
    assert.match(output, /FundRound: 6 accounts, 9 bytes of data/);
});
