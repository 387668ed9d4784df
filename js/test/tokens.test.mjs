import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reactiveSelectors } from '../dist/selectors.js';
import { TOKEN_MODELS, tokenBalanceOf, tokenContractOf, tokenOf } from '../dist/tokens.js';
import { checkOptions } from '../dist/options.js';
import { readFileSync } from 'node:fs';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/worker-config.json', import.meta.url), 'utf8'));

const GOLD = `0x${'c'.padStart(64, '0')}`;
const HEROES = `0x${'d'.padStart(64, '0')}`;
const ME = `0x${'a'.padStart(64, '0')}`;
const YOU = `0x${'b'.padStart(64, '0')}`;
const none = { variant: 'None' };
const some = (value) => ({ variant: 'Some', value });
const row = (name, members) => ({ entityId: '0x1', models: { torii: { [name]: members } } });
const balance = (account, contract, tokenId, amount) =>
  row('TokenBalance', { account_address: account, contract_address: contract, token_id: tokenId, balance: amount });

const big = (1n << 200n) + 3n;
const rows = {
  [TOKEN_MODELS.tokenBalances]: [
    balance(ME, GOLD, none, big),
    balance(YOU, GOLD, none, 0n),
    balance(YOU, HEROES, some(7n), 1n),
    balance(ME, HEROES, some(8n), 1n),
  ],
  [TOKEN_MODELS.tokens]: [
    row('Token', { contract_address: GOLD, token_id: none, name: 'Gold', symbol: 'GLD', decimals: 18, metadata: '', total_supply: some(big) }),
    row('Token', { contract_address: HEROES, token_id: some(7n), name: 'Heroes', symbol: 'HERO', decimals: 0, metadata: '{}', total_supply: none }),
  ],
  [TOKEN_MODELS.tokenContracts]: [
    row('TokenContract', { contract_address: HEROES, contract_type: 'ERC721', name: 'Heroes', symbol: 'HERO', decimals: 0, metadata: '', total_supply: none, traits: '', token_metadata: '' }),
  ],
};

/** A reader over `rows` evaluating `in` conditions on top-level members, as the view does. */
const reader = {
  entity: () => undefined,
  count: () => 0,
  query: (model, spec) => {
    const conditions = spec.filter?.where ?? [];
    const items = (rows[model] ?? []).filter((entity) => {
      const members = Object.values(entity.models.torii)[0];
      return conditions.every((c) => c.op === 'in' && c.value.includes(members[c.member]));
    });
    return { items };
  },
};

test('token rows become plain objects with exact bigints', () => {
  assert.deepEqual(tokenBalanceOf(rows[TOKEN_MODELS.tokenBalances][0]), { accountAddress: ME, contractAddress: GOLD, balance: big });
  assert.deepEqual(tokenBalanceOf(rows[TOKEN_MODELS.tokenBalances][2]).tokenId, 7n);
  const gold = tokenOf(rows[TOKEN_MODELS.tokens][0]);
  assert.equal(gold.totalSupply, big);
  assert.equal('tokenId' in gold, false, 'an ERC20 has no token id');
  assert.equal(tokenContractOf(rows[TOKEN_MODELS.tokenContracts][0]).contractType, 'ERC721');
  assert.equal(tokenOf(rows[TOKEN_MODELS.tokenContracts][0]), undefined, 'a row of another model');
});

test('selectors read the balances of an account, the holders of a token, tokens and contracts', () => {
  const mine = reactiveSelectors.listTokenBalances({ accounts: [ME] })(reader, null);
  assert.deepEqual(mine.map((b) => b.balance), [big, 1n]);
  const gold = reactiveSelectors.listTokenBalances({ contracts: [GOLD] })(reader, null);
  assert.equal(gold.length, 2);
  const holders = reactiveSelectors.listTokenHolders(GOLD)(reader, null);
  assert.deepEqual(holders.map((b) => b.accountAddress), [ME], 'holders hold more than zero');
  const hero7 = reactiveSelectors.listTokenHolders(HEROES, 7n)(reader, null);
  assert.deepEqual(hero7.map((b) => b.accountAddress), [YOU]);
  assert.equal(reactiveSelectors.listTokens()(reader, null).length, 2);
  assert.deepEqual(reactiveSelectors.listTokens({ tokenId: 7n })(reader, null).map((t) => t.symbol), ['HERO']);
  assert.equal(reactiveSelectors.listTokenContracts()(reader, null)[0].symbol, 'HERO');
});

test('token targets are checked: accounts and contracts, never models or a clause', () => {
  const options = (targets) => ({ ...fixture, targets });
  const checked = checkOptions('createReactiveClient', options([{ id: 'wallet', kind: 'tokenBalances', accounts: [ME], contracts: [GOLD] }]), true);
  assert.deepEqual(checked.config.targets, [{ id: 'wallet', kind: 'tokenBalances', accounts: [ME], contracts: [GOLD] }]);
  const bad = [
    { id: 't', kind: 'tokens', accounts: [ME] },
    { id: 't', kind: 'tokenBalances', models: ['ns-M'] },
    { id: 't', kind: 'tokenBalances', accounts: ['not hex'] },
    { id: 't', kind: 'coins' },
    { id: 't', kind: 'tokenContracts', tokenIds: [1n] },
    { id: 't', kind: 'tokens', tokenIds: ['7'] },
    { id: 't', kind: 'tokens', tokenIds: [-1n] },
    { id: 't', kind: 'tokens', tokenIds: [1n << 256n] },
    { id: 't', kind: 'tokens', tokenIds: 7n },
  ];
  for (const target of bad) {
    assert.throws(() => checkOptions('createReactiveClient', options([target]), true), { name: 'ValidationError' }, String(target.tokenIds ?? target.kind));
  }
});

test('token ids of a target go to the worker as 0x hex (the worker asks Torii for them alone)', () => {
  const options = (targets) => ({ ...fixture, targets });
  const max = (1n << 256n) - 1n;
  const heroes = { id: 'heroes', kind: 'tokenBalances', contracts: [HEROES], tokenIds: [7n, '0x0A', max] };
  const checked = checkOptions('createReactiveClient', options([heroes]), true);
  assert.deepEqual(checked.config.targets, [{ ...heroes, tokenIds: ['0x7', '0xa', `0x${'f'.repeat(64)}`] }]);
});
