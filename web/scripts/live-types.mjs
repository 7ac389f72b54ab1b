// Generates web/client/live.ts, the types of the live channel's messages, from
// schemas/live-message.json (`make client`; `make check-client` fails when the file is stale).
//
// The message schema is an allOf of `if type == X then detail = {...}` branches whose fields
// $ref the event schemas (schemas/<Type>.json). Each branch's detail is compiled by
// json-schema-to-typescript into an interface <Type>Detail, its $refs resolved against
// schemas/; then come the discriminated union LiveEvent and the union of details LiveDetail.
//
//   node scripts/live-types.mjs            writes client/live.ts
//   node scripts/live-types.mjs OUT        writes OUT instead (make check-client compares)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const schemas = fileURLToPath(new URL('../../schemas/', import.meta.url));
const messagePath = `${schemas}live-message.json`;
const out = process.argv[2] ?? fileURLToPath(new URL('../client/live.ts', import.meta.url));

const message = JSON.parse(readFileSync(messagePath, 'utf8'));

/** The branches, in the schema's order: [type, detail schema]. */
function branches() {
  const types = message.properties?.type?.enum;
  if (!Array.isArray(types)) throw new Error('live-message.json: properties.type has no enum');
  const found = [];
  for (const [i, b] of (message.allOf ?? []).entries()) {
    const type = b?.if?.properties?.type?.const;
    const detail = b?.then?.properties?.detail;
    if (typeof type !== 'string' || typeof detail !== 'object') {
      throw new Error(`live-message.json: allOf[${i}] is not "if type is X then detail is {...}"`);
    }
    found.push([type, detail]);
  }
  const named = found.map(([t]) => t);
  const missing = types.filter((t) => !named.includes(t));
  const extra = named.filter((t) => !types.includes(t));
  const twice = named.filter((t, i) => named.indexOf(t) !== i);
  if (missing.length || extra.length || twice.length) {
    throw new Error(
      `live-message.json: the allOf branches must name each type once (missing ${missing}, not in the enum ${extra}, twice ${twice})`,
    );
  }
  return found;
}

const options = {
  bannerComment: '',
  cwd: schemas,
  // A detail field the schema leaves open would be `unknown`, never `any`.
  unknownAny: true,
  declareExternallyReferenced: true,
  style: { singleQuote: true, printWidth: 120, trailingComma: 'all' },
};

let body = '';
const names = [];
for (const [type, detail] of branches()) {
  const name = `${type}Detail`;
  // compile annotates the schema it is given: a copy, named after the type.
  const schema = { ...structuredClone(detail), title: name };
  schema.description ??= `The detail of a live ${type} message: the fields of the event (schemas/${type}.json) that docs/live.md lists for it.`;
  body += (await compile(schema, name, options)).trim() + '\n\n';
  names.push([type, name]);
}

const text =
  `// Generated from schemas/live-message.json by web/scripts/live-types.mjs: do not edit; run make client.
//
// The live channel's messages (docs/live.md): for each type, the fields of the event's detail
// the message carries.

${body}/** A live message's type with its detail. */
export type LiveEvent =
${names.map(([t, n]) => `  | { type: '${t}'; detail: ${n} }`).join('\n')};

/** The type of a live message. */
export type LiveEventType = LiveEvent['type'];

/** The detail of any live message. */
export type LiveDetail = LiveEvent['detail'];
`;

writeFileSync(out, text);
