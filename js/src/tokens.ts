/**
 * Tokens, token balances and token contracts: what the token sync targets keep (`kind:
 * 'tokens' | 'tokenBalances' | 'tokenContracts'`), read from the view. The worker holds each
 * row as a one-model entity of a built-in model (`torii-Token`, `torii-TokenBalance`,
 * `torii-TokenContract`, see `docs/tokens.md`); this module turns those rows into plain token
 * objects with exact `bigint` amounts and ids, and provides the selectors that read them.
 *
 * @module
 */

import { ownProperty, type Selector, type ViewReader } from './selectors.js';
import type { Condition, SdkEntity, TokenTargetKind } from './types.js';

/** The built-in model tags of the token rows, by kind. */
export const TOKEN_MODELS = {
  tokens: 'torii-Token',
  tokenBalances: 'torii-TokenBalance',
  tokenContracts: 'torii-TokenContract',
} as const;

/** Whether a target kind is a token kind. */
export function isTokenKind(kind: string): kind is TokenTargetKind {
  return Object.prototype.hasOwnProperty.call(TOKEN_MODELS, kind);
}

/** A token: a whole ERC20 (no `tokenId`) or one ERC721 / ERC1155 token id. */
export interface Token {
  /** The token contract (`0x` + 64 hex digits). */
  readonly contractAddress: string;
  /** The token id; absent for an ERC20. */
  readonly tokenId?: bigint;
  /** Name. */
  readonly name: string;
  /** Symbol. */
  readonly symbol: string;
  /** Decimals (ERC20). */
  readonly decimals: number;
  /** Metadata JSON as Torii stores it. */
  readonly metadata: string;
  /** Total supply, when Torii knows it. */
  readonly totalSupply?: bigint;
}

/** How much of a token an account holds (u256, exact). */
export interface TokenBalance {
  /** The holder. */
  readonly accountAddress: string;
  /** The token contract. */
  readonly contractAddress: string;
  /** The token id; absent for an ERC20. */
  readonly tokenId?: bigint;
  /** The amount. */
  readonly balance: bigint;
}

/** A token contract as Torii indexed it. */
export interface TokenContract {
  /** The contract address. */
  readonly contractAddress: string;
  /** `ERC20`, `ERC721`, `ERC1155`, `WORLD`, `UDC` or `OTHER`. */
  readonly contractType: string;
  /** Name. */
  readonly name: string;
  /** Symbol. */
  readonly symbol: string;
  /** Decimals (ERC20). */
  readonly decimals: number;
  /** Contract metadata JSON. */
  readonly metadata: string;
  /** Total supply, when Torii knows it. */
  readonly totalSupply?: bigint;
  /** Trait names and values of the collection, as Torii reports them. */
  readonly traits: string;
  /** Token metadata JSON. */
  readonly tokenMetadata: string;
}

/** Which tokens or balances: these holders (balances only) and / or these contracts; absent lists do not narrow. */
export interface TokenFilter {
  /** Holders (`0x` addresses). */
  readonly accounts?: readonly string[];
  /** Token contracts (`0x` addresses). */
  readonly contracts?: readonly string[];
  /** One token id (NFTs): only rows of this id. */
  readonly tokenId?: bigint;
}

type Members = { readonly [member: string]: unknown };

function members(entity: SdkEntity, model: string): Members | undefined {
  return ownProperty(ownProperty(entity.models, 'torii'), model.slice('torii-'.length)) as Members | undefined;
}

function text(row: Members, member: string): string {
  const value = ownProperty(row, member);
  return typeof value === 'string' ? value : '';
}

function bigintOf(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(value);
  return undefined;
}

/** A Cairo `Option<u256>` as the view gives it (`{ variant: 'Some', value }` or `{ variant: 'None' }`). */
function optional(row: Members, member: string): bigint | undefined {
  const value = ownProperty(row, member);
  if (ownProperty(value, 'variant') !== 'Some') return undefined;
  return bigintOf(ownProperty(value, 'value'));
}

function count(row: Members, member: string): number {
  const value = ownProperty(row, member);
  return typeof value === 'number' ? value : 0;
}

function withOptional<T extends object, K extends string>(object: T, key: K, value: bigint | undefined): T {
  return value === undefined ? object : { ...object, [key]: value };
}

/** The token of a `torii-Token` row. */
export function tokenOf(entity: SdkEntity): Token | undefined {
  const row = members(entity, TOKEN_MODELS.tokens);
  if (!row) return undefined;
  const token: Token = {
    contractAddress: text(row, 'contract_address'),
    name: text(row, 'name'),
    symbol: text(row, 'symbol'),
    decimals: count(row, 'decimals'),
    metadata: text(row, 'metadata'),
  };
  return withOptional(withOptional(token, 'tokenId', optional(row, 'token_id')), 'totalSupply', optional(row, 'total_supply'));
}

/** The balance of a `torii-TokenBalance` row. */
export function tokenBalanceOf(entity: SdkEntity): TokenBalance | undefined {
  const row = members(entity, TOKEN_MODELS.tokenBalances);
  if (!row) return undefined;
  const balance: TokenBalance = {
    accountAddress: text(row, 'account_address'),
    contractAddress: text(row, 'contract_address'),
    balance: bigintOf(ownProperty(row, 'balance')) ?? 0n,
  };
  return withOptional(balance, 'tokenId', optional(row, 'token_id'));
}

/** The token contract of a `torii-TokenContract` row. */
export function tokenContractOf(entity: SdkEntity): TokenContract | undefined {
  const row = members(entity, TOKEN_MODELS.tokenContracts);
  if (!row) return undefined;
  const contract: TokenContract = {
    contractAddress: text(row, 'contract_address'),
    contractType: text(row, 'contract_type'),
    name: text(row, 'name'),
    symbol: text(row, 'symbol'),
    decimals: count(row, 'decimals'),
    metadata: text(row, 'metadata'),
    traits: text(row, 'traits'),
    tokenMetadata: text(row, 'token_metadata'),
  };
  return withOptional(contract, 'totalSupply', optional(row, 'total_supply'));
}

/** The view filter of a token filter (`accounts` only where the model has holders). */
function conditions(filter: TokenFilter, withAccounts: boolean): Condition[] {
  const where: Condition[] = [];
  if (withAccounts && filter.accounts) where.push({ member: 'account_address', op: 'in', value: [...filter.accounts] });
  if (filter.contracts) where.push({ member: 'contract_address', op: 'in', value: [...filter.contracts] });
  return where;
}

/** Every row of a token model the filter selects, converted, ordered by row id (stable). */
function rows<T extends object>(
  reader: ViewReader,
  model: string,
  filter: TokenFilter,
  withAccounts: boolean,
  convert: (entity: SdkEntity) => T | undefined,
): readonly T[] {
  const where = conditions(filter, withAccounts);
  const page = reader.query(model, where.length > 0 ? { filter: { where } } : {});
  const out: T[] = [];
  for (const entity of page.items) {
    const row = convert(entity);
    if (row && (filter.tokenId === undefined || ownProperty(row, 'tokenId') === filter.tokenId)) out.push(row);
  }
  return out;
}

/** A selector reading token rows (it ignores the subscription's model). */
function tokenSelector<T>(select: (reader: ViewReader) => T): Selector<T> {
  return (reader: ViewReader) => select(reader);
}

/** Every synced token (of `filter.contracts`, and `filter.tokenId`, when given). */
export function listTokens(filter: TokenFilter = {}): Selector<readonly Token[]> {
  return tokenSelector((reader) => rows(reader, TOKEN_MODELS.tokens, filter, false, tokenOf));
}

/** Every synced balance the filter selects: the balances of an account (`accounts`), of a game's contracts (`contracts`). */
export function listTokenBalances(filter: TokenFilter = {}): Selector<readonly TokenBalance[]> {
  return tokenSelector((reader) =>
    rows(reader, TOKEN_MODELS.tokenBalances, filter, true, tokenBalanceOf),
  );
}

/** The holders of a token (a contract, and a token id for NFTs): its balances above zero. */
export function listTokenHolders(contractAddress: string, tokenId?: bigint): Selector<readonly TokenBalance[]> {
  const filter: TokenFilter = { contracts: [contractAddress], ...(tokenId === undefined ? {} : { tokenId }) };
  return tokenSelector((reader) =>
    rows(reader, TOKEN_MODELS.tokenBalances, filter, true, tokenBalanceOf).filter((b) => b.balance > 0n),
  );
}

/** Every synced token contract (of `filter.contracts` when given). */
export function listTokenContracts(filter: TokenFilter = {}): Selector<readonly TokenContract[]> {
  return tokenSelector((reader) =>
    rows(reader, TOKEN_MODELS.tokenContracts, filter, false, tokenContractOf),
  );
}
