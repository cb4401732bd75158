import {
  type DescField,
  type DescMessage,
  fromJson,
  type JsonObject,
  type JsonValue,
  type Message,
  ScalarType,
  toJson,
} from "@bufbuild/protobuf";
import { invalidArgument } from "../../errors/index.js";
import type { RestRoute } from "./routes.js";

/**
 * The request message of one REST call, per the `google.api.http` rule: the body (all of it
 * for `body: "*"`, else one field), then query parameters (only when the body is not `*`),
 * then path variables, which win. JSON per the protobuf JSON mapping; unknown fields refused.
 */
export function requestMessage(
  route: RestRoute,
  variables: ReadonlyMap<string, string>,
  query: URLSearchParams,
  body: Buffer,
): Message {
  const schema = route.method.input;
  const json: JsonObject = {};
  if (route.body !== "") {
    const parsed = body.length === 0 ? {} : parseJson(body);
    if (route.body === "*") {
      if (!isObject(parsed)) throw invalidArgument("", "request body must be a JSON object");
      // Own properties, copied as such: `Object.assign` would *set* a `__proto__` member (the
      // prototype), hiding it from the unknown-field check every other unknown member meets.
      for (const [key, value] of Object.entries(parsed)) {
        Object.defineProperty(json, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    } else setPath(schema, json, route.body, parsed);
  }
  if (route.body !== "*") {
    for (const key of new Set(query.keys())) {
      setPath(schema, json, key, queryValue(schema, key, query.getAll(key)));
    }
  }
  for (const [path, value] of variables) setPath(schema, json, path, value);
  try {
    return fromJson(schema, json);
  } catch {
    // protobuf-es messages may quote the value: name the message, never echo the input.
    throw invalidArgument("", `request is not valid JSON for ${schema.name}`);
  }
}

/**
 * The response JSON, or only its `response_body` field. Fields at their default are sent too
 * (`"allowed": false`): a REST client should not need the proto to read a denial.
 */
export function responseJson(route: RestRoute, message: Message): JsonValue {
  const json = toJson(route.method.output, message, { alwaysEmitImplicit: true });
  if (route.responseBody === "" || !isObject(json)) return json;
  const field = fieldOf(route.method.output, route.responseBody);
  return json[field?.jsonName ?? route.responseBody] ?? null;
}

function parseJson(body: Buffer): JsonValue {
  try {
    return JSON.parse(body.toString("utf8")) as JsonValue;
  } catch {
    throw invalidArgument("", "request body is not JSON");
  }
}

/**
 * A query parameter's JSON value from its field's type: repeated fields take every value,
 * booleans and numbers their JSON forms; message fields cannot be set from a query string.
 */
function queryValue(schema: DescMessage, path: string, values: string[]): JsonValue {
  const field = leafField(schema, path);
  const one = (value: string): JsonValue => scalarJson(field, value, path);
  if (field.fieldKind === "list") return values.map(one);
  if (values.length !== 1) throw invalidArgument(path, "query parameter repeated");
  return one(values[0] ?? "");
}

function scalarJson(field: DescField, value: string, path: string): JsonValue {
  const scalar =
    field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar")
      ? field.scalar
      : undefined;
  const isEnum =
    field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum");
  if (isEnum) return value;
  if (scalar === undefined) throw invalidArgument(path, "field cannot be set from the query");
  if (scalar === ScalarType.BOOL) {
    if (value === "true" || value === "false") return value === "true";
    throw invalidArgument(path, "must be true or false");
  }
  return value; // numbers as strings: the JSON mapping accepts them for every integer type
}

/** Walks a dotted path (proto or JSON names) to its last field; unknown paths are refused. */
function leafField(schema: DescMessage, path: string): DescField {
  let message: DescMessage | undefined = schema;
  let field: DescField | undefined;
  for (const part of path.split(".")) {
    field = message === undefined ? undefined : fieldOf(message, part);
    if (field === undefined) throw invalidArgument(path, "unknown field");
    message = field.fieldKind === "message" ? field.message : undefined;
  }
  if (field === undefined) throw invalidArgument(path, "unknown field");
  return field;
}

/** Sets `value` at a dotted field path, creating the objects between, under JSON names. */
function setPath(schema: DescMessage, json: JsonObject, path: string, value: JsonValue): void {
  let message: DescMessage | undefined = schema;
  let node = json;
  const parts = path.split(".");
  for (const [i, part] of parts.entries()) {
    const field: DescField | undefined = message === undefined ? undefined : fieldOf(message, part);
    if (field === undefined) throw invalidArgument(path, "unknown field");
    if (i === parts.length - 1) {
      node[field.jsonName] = value;
      return;
    }
    const next = node[field.jsonName];
    const child: JsonObject = isObject(next) ? next : {};
    node[field.jsonName] = child;
    node = child;
    message = field.fieldKind === "message" ? field.message : undefined;
  }
}

function fieldOf(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((field) => field.name === name || field.jsonName === name);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
