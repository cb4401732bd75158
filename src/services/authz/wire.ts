import { create } from "@bufbuild/protobuf";
import {
  type AttributeContext,
  type AttributeContext_HttpRequest,
  AttributeContext_HttpRequestSchema,
  type AttributeContext_Peer,
  AttributeContext_PeerSchema,
  type AttributeContext_Request,
  AttributeContext_RequestSchema,
  AttributeContextSchema,
} from "../../../gen/envoy/service/auth/v3/attribute_context_pb.js";
import {
  type CheckRequest,
  CheckRequestSchema,
} from "../../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { fieldOf, WireReader } from "../wire-reader.js";
import { READ_EXTENSIONS, READ_HEADERS } from "./request.js";

/**
 * Field numbers, from the generated Envoy subset (so they are Envoy's own). Map entries hold
 * their key in field 1 and their value in field 2 (protobuf spec, "Maps": backwards
 * compatibility).
 */
const FIELD = {
  attributes: CheckRequestSchema.field.attributes.number,
  source: AttributeContextSchema.field.source.number,
  request: AttributeContextSchema.field.request.number,
  contextExtensions: AttributeContextSchema.field.contextExtensions.number,
  principal: AttributeContext_PeerSchema.field.principal.number,
  http: AttributeContext_RequestSchema.field.http.number,
  method: AttributeContext_HttpRequestSchema.field.method.number,
  headers: AttributeContext_HttpRequestSchema.field.headers.number,
  path: AttributeContext_HttpRequestSchema.field.path.number,
  host: AttributeContext_HttpRequestSchema.field.host.number,
  scheme: AttributeContext_HttpRequestSchema.field.scheme.number,
  entryKey: 1,
  entryValue: 2,
} as const;

/**
 * Envoy's CheckRequest, decoded keeping only what readCheckRequest (request.ts) reads: the
 * source principal, the route's Gatehouse context extensions, the method, path, host and
 * scheme, and the headers it reads. Envoy sends every header of the HTTP
 * request and dozens of fields Gatehouse never reads; decoding them all (a string per header
 * name and value, an object per unknown field) was most of a Check's cost. Everything else
 * is skipped, as the protobuf spec lets a reader skip what it does not know; fields that are
 * kept follow fromBinary's rules: the last value of a scalar or a map key wins, a message
 * given twice is merged, strings are checked UTF-8 (proto3). Structural errors (a truncated
 * field, a length past its message, a known field with the wrong wire type) throw.
 *
 * The result is a real CheckRequest, only without what Gatehouse never reads; it is never
 * re-encoded (Check takes no signed requests: only verifiers and admins may call it).
 */
export function decodeCheckRequest(bytes: Uint8Array): CheckRequest {
  const reader = new WireReader(bytes);
  const request = create(CheckRequestSchema);
  while (reader.pos < reader.len) {
    const tag = reader.tag();
    if (fieldOf(tag) === FIELD.attributes) {
      request.attributes = readAttributes(reader, tag, request.attributes);
    } else {
      reader.stepOver(tag);
    }
  }
  return finished(reader, reader.len, request);
}

/**
 * One length-delimited message read into `into`: `readField` reads the fields it knows
 * (answering true) and every other field is stepped over; a field running past the
 * message's end makes it malformed.
 */
function readMessage<T>(
  reader: WireReader,
  tag: number,
  into: T,
  readField: (reader: WireReader, tag: number, into: T) => boolean,
): T {
  const end = reader.lengthDelimitedEnd(tag);
  while (reader.pos < end) {
    const inner = reader.tag();
    if (!readField(reader, inner, into)) reader.stepOver(inner);
  }
  return finished(reader, end, into);
}

const readAttributes = (reader: WireReader, tag: number, into?: AttributeContext) =>
  readMessage(reader, tag, into ?? create(AttributeContextSchema), attributesField);
const readPeer = (reader: WireReader, tag: number, into?: AttributeContext_Peer) =>
  readMessage(reader, tag, into ?? create(AttributeContext_PeerSchema), peerField);
const readRequest = (reader: WireReader, tag: number, into?: AttributeContext_Request) =>
  readMessage(reader, tag, into ?? create(AttributeContext_RequestSchema), requestField);
const readHttp = (reader: WireReader, tag: number, into?: AttributeContext_HttpRequest) =>
  readMessage(reader, tag, into ?? create(AttributeContext_HttpRequestSchema), httpField);

// The fields each message keeps (module functions: nothing is allocated per request for them).

function attributesField(reader: WireReader, tag: number, into: AttributeContext): boolean {
  const no = fieldOf(tag);
  if (no === FIELD.source) into.source = readPeer(reader, tag, into.source);
  else if (no === FIELD.request) into.request = readRequest(reader, tag, into.request);
  else if (no === FIELD.contextExtensions) {
    readEntry(reader, tag, into.contextExtensions, EXTENSION_KEYS);
  } else return false;
  return true;
}

function peerField(reader: WireReader, tag: number, into: AttributeContext_Peer): boolean {
  if (fieldOf(tag) !== FIELD.principal) return false;
  into.principal = reader.string(tag);
  return true;
}

function requestField(reader: WireReader, tag: number, into: AttributeContext_Request): boolean {
  if (fieldOf(tag) !== FIELD.http) return false;
  into.http = readHttp(reader, tag, into.http);
  return true;
}

function httpField(reader: WireReader, tag: number, into: AttributeContext_HttpRequest): boolean {
  const no = fieldOf(tag);
  if (no === FIELD.method) into.method = reader.string(tag);
  else if (no === FIELD.headers) readEntry(reader, tag, into.headers, HEADER_KEYS);
  else if (no === FIELD.path) into.path = reader.string(tag);
  else if (no === FIELD.host) into.host = reader.string(tag);
  else if (no === FIELD.scheme) into.scheme = reader.string(tag);
  else return false;
  return true;
}

/** The keys an entry is kept for, as UTF-8 bytes: an entry's key is compared undecoded. */
interface KeptKey {
  readonly name: string;
  readonly bytes: Uint8Array;
}

const keptKeys = (names: ReadonlySet<string>): readonly KeptKey[] =>
  [...names].map((name) => ({ name, bytes: new TextEncoder().encode(name) }));
const HEADER_KEYS = keptKeys(READ_HEADERS);
const EXTENSION_KEYS = keptKeys(READ_EXTENSIONS);

/**
 * One map<string, string> entry, stored only when its key is kept. Neither the key nor the
 * value of any other entry is decoded: a key is matched byte for byte, and a value that
 * follows its key (as every encoder writes it) is skipped.
 */
function readEntry(
  reader: WireReader,
  tag: number,
  into: Record<string, string>,
  keep: readonly KeptKey[],
): void {
  const end = reader.lengthDelimitedEnd(tag);
  let key: string | null | undefined; // null: a key that is not kept
  let value = "";
  while (reader.pos < end) {
    const inner = reader.tag();
    const no = fieldOf(inner);
    if (no === FIELD.entryKey) key = keptKey(reader, inner, keep);
    else if (no === FIELD.entryValue && key !== null) value = reader.string(inner);
    else reader.stepOver(inner);
  }
  finished(reader, end, into);
  // proto3: an absent key is the empty string, which is never kept.
  if (typeof key === "string") into[key] = value;
}

/** The kept key this field spells, else null (it is skipped, not decoded). */
function keptKey(reader: WireReader, tag: number, keep: readonly KeptKey[]): string | null {
  const end = reader.lengthDelimitedEnd(tag);
  const start = reader.pos;
  reader.pos = end;
  for (const { name, bytes } of keep) {
    if (bytes.length === end - start && sameBytes(reader.buf, start, bytes)) return name;
  }
  return null;
}

function sameBytes(source: Uint8Array, start: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) {
    if (source[start + i] !== expected[i]) return false;
  }
  return true;
}

/** A field that ran past the end of its message makes the whole request malformed. */
function finished<T>(reader: WireReader, end: number, message: T): T {
  if (reader.pos !== end) throw new Error("field overruns its message");
  return message;
}
