// The Wallet Standard's discovery handshake and the three features dropPIN uses, for the Rust
// side in wallet.rs. Any standard wallet (Phantom, Solflare, Backpack...) registers through the
// `wallet-standard:register-wallet` event, whether it loaded before the app or after.
const wallets = [];
const listeners = [];
let started = false;

function register(...added) {
  for (const wallet of added) if (!wallets.includes(wallet)) wallets.push(wallet);
  for (const listener of listeners) listener();
  return () => {};
}

function usable(wallet) {
  return (
    wallet.chains.some((chain) => chain.startsWith("solana:")) &&
    "standard:connect" in wallet.features &&
    "solana:signTransaction" in wallet.features
  );
}

function named(name) {
  const wallet = wallets.find((w) => w.name === name && usable(w));
  if (!wallet) throw new Error(`no Solana wallet named ${name}`);
  return wallet;
}

export function watch_wallets(on_change) {
  listeners.push(on_change);
  if (started) return;
  started = true;
  window.addEventListener("wallet-standard:register-wallet", (event) => event.detail({ register }));
  window.dispatchEvent(new CustomEvent("wallet-standard:app-ready", { detail: { register } }));
}

export function wallet_names() {
  return wallets.filter(usable).map((w) => w.name);
}

export async function connect_wallet(name, silent) {
  const { accounts } = await named(name).features["standard:connect"].connect({ silent });
  if (!accounts.length) throw new Error("the wallet shared no account");
  return accounts[0].address;
}

export async function disconnect_wallet(name) {
  const feature = named(name).features["standard:disconnect"];
  if (feature) await feature.disconnect();
}

export async function sign_transaction(name, address, chain, transaction) {
  const wallet = named(name);
  const account = wallet.accounts.find((a) => a.address === address);
  if (!account) throw new Error(`the wallet no longer shares ${address}`);
  const [signed] = await wallet.features["solana:signTransaction"].signTransaction({ account, transaction, chain });
  return signed.signedTransaction;
}
