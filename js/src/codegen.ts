/**
 * The type generator behind `npx dojo-reactive-types`: TypeScript types of a world's models
 * from the wasm module's `describeModels` (the manifest's members with their types resolved as
 * the view resolves them). The types are those of this package's values, not sozo's: integers
 * up to 32 bits are `number`, wider ones `bigint`, felts and addresses `0x` hex strings,
 * `ByteArray` strings, enums `{ variant, value? }`, nested structs objects. Every name is
 * written as a string literal when it is not a plain identifier (`__proto__` included).
 *
 * @module
 */

import type { MemberDescription, ModelDescriptions, TypeDescription } from '../wasm/dojo_reactive.js';

/** Options of {@link generateSchema}. */
export interface GenerateOptions {
  /** The exported type's name (default `Schema`). */
  readonly typeName?: string;
  /** Register the schema as the package's default (default true; see `Register`). */
  readonly register?: boolean;
  /** Where the manifest came from, for the header. */
  readonly source?: string;
}

const SMALL = new Set(['u8', 'u16', 'u32', 'i8', 'i16', 'i32']);
const WIDE = new Set(['u64', 'u128', 'u256', 'i64', 'i128']);
const FELTS = new Set(['felt252', 'ClassHash', 'ContractAddress', 'EthAddress']);

/**
 * The members of TypeScript's `Object` interface: every object type has them, so an optional
 * property of that name that an object literal leaves out is checked against the inherited one
 * (`constructor: Function`), and such a payload would not compile. Their optional input type
 * admits the inherited type too (the write refuses it at run time).
 */
const INHERITED = new Set(['constructor', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable']);

/** The type of an optional property `name` of type `type`. */
function optional(name: string, type: string): string {
  return INHERITED.has(name) ? `${type} | Object[${literal(name)}]` : type;
}

/** `name` as a property name: bare when a plain identifier, else a string literal. */
export function propertyName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) && name !== '__proto__' ? name : JSON.stringify(name);
}

function literal(text: string): string {
  return JSON.stringify(text);
}

function object(fields: readonly string[]): string {
  return fields.length === 0 ? '{}' : `{ ${fields.join('; ')} }`;
}

/** An object type with one field per line, at `indent` (the model's parts). */
function block(fields: readonly string[], indent: string): string {
  return fields.length === 0 ? '{}' : `{\n${fields.map((f) => `${indent}  ${f};\n`).join('')}${indent}}`;
}

function union(types: readonly string[]): string {
  return types.length === 0 ? 'never' : types.join(' | ');
}

function isUnit(type: TypeDescription): boolean {
  return type.kind === 'tuple' && type.items.length === 0;
}

/** Which of the three forms a type is written in. */
type Form = 'value' | 'input' | 'operand';

function primitive(name: string, form: Form): string {
  if (SMALL.has(name)) return 'number';
  if (WIDE.has(name)) return form === 'value' ? 'bigint' : 'bigint | number';
  if (FELTS.has(name)) return form === 'value' ? 'string' : 'string | bigint';
  if (name === 'bool') return 'boolean';
  throw new Error(`unknown primitive type ${name}`);
}

/** A type as reads return it (`value`) or as a write takes it (`input`). */
function typeOf(type: TypeDescription, form: 'value' | 'input'): string {
  switch (type.kind) {
    case 'primitive':
      return primitive(type.name, form);
    case 'byteArray':
      return 'string';
    case 'struct':
      return object(type.members.map((m) => `readonly ${propertyName(m.name)}: ${typeOf(m.type, form)}`));
    case 'enum':
      return union(
        type.variants.flatMap((v) => {
          const variant = `readonly variant: ${literal(v.name)}`;
          if (isUnit(v.type)) return form === 'input' ? [literal(v.name), `{ ${variant} }`] : [`{ ${variant} }`];
          return [`{ ${variant}; readonly value: ${typeOf(v.type, form)} }`];
        }),
      );
    case 'tuple':
      return `readonly [${type.items.map((item) => typeOf(item, form)).join(', ')}]`;
    case 'array':
    case 'fixedArray':
      return type.element ? `readonly (${typeOf(type.element, form)})[]` : 'readonly never[]';
  }
}

/** The paths a filter's `where` can test below `prefix`, with their operand types. */
function paths(members: readonly MemberDescription[], prefix: string, out: string[]): void {
  for (const member of members) {
    const path = `${prefix}${member.name}`;
    const type = member.type;
    switch (type.kind) {
      case 'primitive':
        out.push(`readonly ${literal(path)}: ${primitive(type.name, 'operand')}`);
        break;
      case 'byteArray':
        out.push(`readonly ${literal(path)}: string`);
        break;
      case 'enum': {
        const names = union(type.variants.map((v) => literal(v.name)));
        out.push(`readonly ${literal(path)}: ${names} | { readonly variant: ${names} }`);
        break;
      }
      case 'struct':
        paths(type.members, `${path}.`, out);
        break;
      default:
        // Arrays and tuples are not comparable.
        break;
    }
  }
}

/** The TypeScript module `npx dojo-reactive-types` writes for these models. */
export function generateSchema(described: ModelDescriptions, options: GenerateOptions = {}): string {
  const typeName = options.typeName ?? 'Schema';
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(typeName)) throw new Error(`--name ${typeName} is not a TypeScript identifier`);
  const lines = [
    `// Generated by \`npx dojo-reactive-types\`${options.source ? ` from ${options.source}` : ''}: the world's models as`,
    '// @dojoengine/reactive reads and writes them. Do not edit: run it again after `sozo build`.',
    '',
    `/** The world's models and events: tag → types (see \`ModelTypes\` in @dojoengine/reactive). */`,
    `export type ${typeName} = {`,
  ];
  for (const model of described.models) {
    const dash = model.tag.indexOf('-');
    const namespace = dash < 0 ? '' : model.tag.slice(0, dash);
    const name = dash < 0 ? model.tag : model.tag.slice(dash + 1);
    const keys = model.members.filter((m) => m.key);
    const where: string[] = [];
    paths(model.members, '', where);
    lines.push(
      `  /** \`${model.tag.replace(/\*\//g, '*\\/')}\` (${model.kind}). */`,
      `  readonly ${literal(model.tag)}: {`,
      `    readonly namespace: ${literal(namespace)};`,
      `    readonly name: ${literal(name)};`,
      `    readonly value: ${block(model.members.map((m) => `readonly ${propertyName(m.name)}: ${typeOf(m.type, 'value')}`), '    ')};`,
      `    readonly keys: ${block(keys.map((m) => `readonly ${propertyName(m.name)}: ${typeOf(m.type, 'input')}`), '    ')};`,
      `    readonly input: ${block(model.members.map((m) => `readonly ${propertyName(m.name)}?: ${optional(m.name, typeOf(m.type, 'input'))}`), '    ')};`,
      `    readonly paths: ${block(where, '    ')};`,
      '  };',
    );
  }
  lines.push('};', '');
  if (options.register ?? true) {
    lines.push(
      `/** Makes \`${typeName}\` the default schema of every API of the package. */`,
      "declare module '@dojoengine/reactive' {",
      '  interface Register {',
      `    readonly schema: ${typeName};`,
      '  }',
      '}',
      '',
    );
  }
  return lines.join('\n');
}
