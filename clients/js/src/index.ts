// The dropPIN program client: everything under ./generated is rendered by Codama from
// idl/droppin.json (npm run generate); nothing there is written by hand.
export * from './generated';
