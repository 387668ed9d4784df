/**
 * Typed models: the types the client, queries, subscriptions, `mutate` and the hooks take from
 * a world's schema, as `npx dojo-reactive-types` writes it from the manifest. Without a schema
 * (nothing registered, no type argument) every one of them is the untyped form: `SdkEntity`,
 * `Filter`, `QueryOptions`, `SdkModel`.
 *
 * @module
 */

import type {
  Filter,
  FilterOp,
  InputValue,
  MemberSelection,
  Predicate,
  QueryOptions,
  QueryResult,
  SdkEntity,
  SdkModel,
} from './types.js';

/** One model's (or event's) types, as the generator writes them. */
export interface ModelTypes {
  /** The namespace (the tag before its first `-`). */
  readonly namespace: string;
  /** The model's name (the tag after its first `-`). */
  readonly name: string;
  /** The model's state as reads return it. */
  readonly value: object;
  /** Its key members, as `entityId` and a filter's `keys` take them. */
  readonly keys: object;
  /** A write's payload: any of its members, each as a write takes it. */
  readonly input: object;
  /** The member paths a filter's `where` can test, each with its operand's type. */
  readonly paths: object;
}

/** A world's schema: model tag → its types. */
export type WorldSchema = { readonly [tag: string]: ModelTypes };

/** The schema of an untyped client: any tag, {@link SdkModel} states, any members. */
export type UntypedSchema = {
  readonly [tag: string]: {
    readonly namespace: string;
    readonly name: string;
    readonly value: SdkModel;
    readonly keys: { readonly [member: string]: InputValue };
    readonly input: { readonly [member: string]: InputValue };
    readonly paths: { readonly [path: string]: InputValue };
  };
};

/**
 * Where an application registers its world's schema, so that every API of the package is typed
 * by it without a type argument. The file `npx dojo-reactive-types` writes does it:
 * `declare module '@dojoengine/reactive' { interface Register { readonly schema: Schema } }`.
 */
export interface Register {}

/** The registered schema (see {@link Register}), or {@link UntypedSchema} when none is. */
export type RegisteredSchema = Register extends { readonly schema: infer S extends WorldSchema } ? S : UntypedSchema;

/** Whether `S` is the untyped schema (any tag). */
type IsUntyped<S> = string extends keyof S ? true : false;

/** The model tags of a schema. */
export type ModelTag<S extends WorldSchema = RegisteredSchema> = keyof S & string;

/** A model's state as reads return it: `ModelValue<'ns-Position'>`. */
export type ModelValue<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> = S[T]['value'];

/** A model's key members, as `client.entityId(model, keys)` takes them. */
export type ModelKeys<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> = S[T]['keys'];

/** A write's payload on a model, as `mutate` takes it. */
export type ModelInput<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> = S[T]['input'];

/** An entity as a query or a filter subscription on `T` returns it: `T`'s state only. */
export type EntityOf<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> =
  IsUntyped<S> extends true
    ? SdkEntity
    : {
        /** The entity id: `0x` followed by 64 hex digits. */
        readonly entityId: string;
        /** The model's state under its namespace and name. */
        readonly models: { readonly [N in S[T]['namespace']]: { readonly [M in S[T]['name']]: S[T]['value'] } };
      };

/** A whole entity (every synced model it has; each may be absent), as `useEntity` returns it. */
export type Entity<S extends WorldSchema = RegisteredSchema> =
  IsUntyped<S> extends true
    ? SdkEntity
    : {
        /** The entity id: `0x` followed by 64 hex digits. */
        readonly entityId: string;
        /** Namespace → model name → state, for the models the entity has. */
        readonly models: {
          readonly [N in S[keyof S]['namespace']]?: {
            readonly [T in keyof S as S[T]['namespace'] extends N ? S[T]['name'] : never]?: S[T]['value'];
          };
        };
      };

/**
 * Any of `T`'s properties. A property named like a member of TypeScript's `Object` interface
 * (`constructor`, `toString`, …) also admits the inherited type, which an object literal that
 * leaves it out is checked against.
 */
export type OptionalMembers<T> = { readonly [K in keyof T]?: T[K] | (K extends keyof Object ? Object[K] : never) };

/** The operators that take a list of the path's values. */
type ListOp = Extract<FilterOp, 'in' | 'notIn'>;

/** The operators on an array member (an array is no `where` path of a typed filter). */
type ArrayOp = Extract<FilterOp, 'contains' | 'containsAll' | 'containsAny' | 'arrayLengthEq' | 'arrayLengthGt' | 'arrayLengthLt'>;

/** One `where` predicate on a model with these paths: a known path and an operand of its type. */
export type PredicateOf<P> = {
  [K in keyof P & string]:
    | { readonly member: K; readonly op: Exclude<FilterOp, ListOp | ArrayOp>; readonly value: P[K] }
    | { readonly member: K; readonly op: ListOp; readonly value: readonly P[K][] };
}[keyof P & string];

/** A `where` entry of the untyped filter. */
type UntypedCondition = NonNullable<Filter['where']>[number];

/** Whether the filter language nests conditions in `and` / `or`. */
type Nests = Extract<UntypedCondition, { readonly and: unknown }> extends never ? false : true;

/**
 * One `where` entry of a typed filter: a typed predicate, `and` / `or` of typed entries (when
 * the filter language nests), or another condition of the untyped filter (on keys or ids).
 */
export type ConditionOf<P> =
  | PredicateOf<P>
  | Exclude<UntypedCondition, Predicate | { readonly and: unknown } | { readonly or: unknown }>
  | (Nests extends true ? { readonly and: readonly ConditionOf<P>[] } | { readonly or: readonly ConditionOf<P>[] } : never);

/** The filter DSL on model `T`: its key members and its member paths, typed. */
export type FilterOf<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> =
  IsUntyped<S> extends true
    ? Filter
    : Omit<Filter, 'keys' | 'where'> & {
        /** Key member → value (any of them). */
        readonly keys?: OptionalMembers<S[T]['keys']>;
        /** Conditions that must all hold. */
        readonly where?: readonly ConditionOf<S[T]['paths']>[];
      };

/** A member path of model `T` (a member, or a dotted path into a nested struct). */
export type MemberPath<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> =
  | (keyof S[T]['value'] & string)
  | (keyof S[T]['paths'] & string);

/** Which members of model `T` to return. */
export type SelectionOf<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> =
  IsUntyped<S> extends true
    ? MemberSelection
    : {
        /** Member paths to keep. */
        readonly include?: readonly MemberPath<T, S>[];
        /** Member paths to remove. */
        readonly exclude?: readonly MemberPath<T, S>[];
      };

/** An `orderBy` entry of the untyped query (`unknown` when the query language has no `orderBy`). */
type UntypedOrderBy = QueryOptions extends { readonly orderBy?: readonly (infer O)[] } ? O : unknown;

/** `orderBy` on a model with these paths: each entry names one of them (when the query language orders). */
type OrderByOf<P> = unknown extends UntypedOrderBy
  ? {}
  : {
      /** Order by these member paths in turn, then by entity id. */
      readonly orderBy?: readonly (Omit<UntypedOrderBy, 'member'> & { readonly member: keyof P & string })[];
    };

/** Options of `query` on model `T`. */
export type QueryOptionsOf<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> =
  IsUntyped<S> extends true
    ? QueryOptions
    : Omit<QueryOptions, 'filter' | 'select' | 'orderBy'> &
        OrderByOf<S[T]['paths']> & {
          /** Which entities (all of the model's when absent). */
          readonly filter?: FilterOf<T, S>;
          /** Which members of them. */
          readonly select?: SelectionOf<T, S>;
        };

/** One page of a query on model `T`. */
export type QueryResultOf<T extends ModelTag<S>, S extends WorldSchema = RegisteredSchema> =
  IsUntyped<S> extends true
    ? QueryResult
    : Omit<QueryResult, 'items'> & {
        /** Matching entities. */
        readonly items: readonly EntityOf<T, S>[];
      };
