/**
 * Temporal payload converter that carries `bigint` across the workflow/activity boundary.
 *
 * Ballast keeps every amount as a `bigint` in base units; plain JSON cannot encode it. This converter
 * is the SDK's default chain (undefined, binary, JSON) with one change: inside JSON, a bigint is
 * written as `{"$bigint":"<decimal>"}` and read back as a bigint. Payloads stay `json/plain`, so the
 * Temporal Web UI and `temporal workflow show` still display them.
 *
 * Wire it on both sides with the module path:
 *   Worker.create({ dataConverter: { payloadConverterPath }, ... })
 *   new Client({ dataConverter: { payloadConverterPath } })
 * where `payloadConverterPath` is exported by `keeper/dataConverter.ts`.
 */
import {
  BinaryPayloadConverter,
  CompositePayloadConverter,
  METADATA_ENCODING_KEY,
  UndefinedPayloadConverter,
  ValueError,
  encodingKeys,
  type Payload,
  type PayloadConverterWithEncoding,
} from '@temporalio/common';
import { decode, encode } from '@temporalio/common/lib/encoding.js';

const TAG = '$bigint';

/** JSON.stringify replacer: bigint → `{ $bigint: "123" }`. */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { [TAG]: value.toString() } : value;
}

/** JSON.parse reviver: `{ $bigint: "123" }` → 123n. */
export function bigintReviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const rec = value as Record<string, unknown>;
    const tagged = rec[TAG];
    if (typeof tagged === 'string' && Object.keys(rec).length === 1) return BigInt(tagged);
  }
  return value;
}

/** `json/plain` converter that round-trips bigint (see module docs). */
export class BigIntJsonPayloadConverter implements PayloadConverterWithEncoding {
  readonly encodingType = 'json/plain' as const;

  toPayload(value: unknown): Payload | undefined {
    if (value === undefined) return undefined;
    let json: string;
    try {
      json = JSON.stringify(value, bigintReplacer);
    } catch {
      return undefined;
    }
    return { metadata: { [METADATA_ENCODING_KEY]: encodingKeys.METADATA_ENCODING_JSON }, data: encode(json) };
  }

  fromPayload<T>(payload: Payload): T {
    if (payload.data === undefined || payload.data === null) throw new ValueError('Got payload with no data');
    return JSON.parse(decode(payload.data), bigintReviver) as T;
  }
}

/** The converter Temporal loads from this module (the export must be named `payloadConverter`). */
export const payloadConverter = new CompositePayloadConverter(
  new UndefinedPayloadConverter(),
  new BinaryPayloadConverter(),
  new BigIntJsonPayloadConverter(),
);
