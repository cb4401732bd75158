import type { DescField, DescMessage, DescOneof, Message } from "@bufbuild/protobuf";
import { getOption, hasOption, ScalarType } from "@bufbuild/protobuf";
import {
  type FieldRules,
  oneof_required,
  rules as rulesExtension,
} from "../../gen/gatehouse/v1/validate_pb.js";
import { invalidArgument } from "../errors/index.js";

/** One compiled check: throws a GatehouseError naming the field, or returns. */
type Check = (message: Record<string, unknown>, path: string) => void;

const compiled = new WeakMap<DescMessage, Check[]>();

/**
 * The validator of one request type: it enforces the `(gatehouse.v1.rules)` and
 * `(gatehouse.v1.oneof_required)` options the contract declares on every request field.
 * Rules are compiled once per message type, and looked up once here (a dispatcher validates
 * every request of a method). The first violation is reported as INVALID_ARGUMENT naming the
 * field (never its value).
 */
export function validatorFor(schema: DescMessage): (message: Message) => void {
  const checks = checksFor(schema);
  return (message) => {
    for (const check of checks) check(message as unknown as Record<string, unknown>, "");
  };
}

/** `validatorFor(schema)` applied once. */
export function validateMessage(schema: DescMessage, message: Message): void {
  validatorFor(schema)(message);
}

function runChecks(schema: DescMessage, message: Record<string, unknown>, prefix: string): void {
  for (const check of checksFor(schema)) check(message, prefix);
}

function checksFor(schema: DescMessage): Check[] {
  let checks = compiled.get(schema);
  if (!checks) {
    checks = [...schema.oneofs.flatMap(compileOneof), ...schema.fields.flatMap(compileField)];
    compiled.set(schema, checks);
  }
  return checks;
}

function compileOneof(oneof: DescOneof): Check[] {
  if (!hasOption(oneof, oneof_required) || !getOption(oneof, oneof_required)) return [];
  return [
    (message, prefix) => {
      const value = message[oneof.localName] as { case: string | undefined };
      if (value.case === undefined) throw invalidArgument(prefix + oneof.name, "one is required");
    },
  ];
}

function compileField(field: DescField): Check[] {
  const rules = hasOption(field, rulesExtension) ? getOption(field, rulesExtension) : undefined;
  const read = (message: Record<string, unknown>): unknown => {
    if (!field.oneof) return message[field.localName];
    const selected = message[field.oneof.localName] as { case?: string; value?: unknown };
    return selected.case === field.localName ? selected.value : undefined;
  };
  const checks: Check[] = [];
  if (rules) checks.push(compileRules(field, rules, read));
  const nested = nestedMessage(field);
  if (nested && hasRules(nested)) {
    checks.push((message, prefix) => {
      const value = read(message);
      if (value === undefined) return;
      const path = `${prefix}${field.name}`;
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          runChecks(nested, item, `${path}[${i}].`);
        });
      } else {
        runChecks(nested, value as Record<string, unknown>, `${path}.`);
      }
    });
  }
  return checks;
}

/** The message type a field holds: a message field's, or a repeated message field's items'. */
function nestedMessage(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  return undefined;
}

const ruled = new WeakMap<DescMessage, boolean>();

/**
 * Whether a message type, or any it holds, declares a rule. Types without any (Envoy's
 * CheckRequest, google.protobuf.*) are not walked at all on each call. A type met again
 * while it is being decided (a recursive type) counts as ruled: never skip what might hold one.
 */
function hasRules(schema: DescMessage): boolean {
  const known = ruled.get(schema);
  if (known !== undefined) return known;
  if (schema.typeName.startsWith("google.protobuf.")) return false;
  ruled.set(schema, true);
  const result =
    schema.oneofs.some((oneof) => hasOption(oneof, oneof_required)) ||
    schema.fields.some((field) => {
      if (hasOption(field, rulesExtension)) return true;
      const nested = nestedMessage(field);
      return nested !== undefined && hasRules(nested);
    });
  ruled.set(schema, result);
  return result;
}

/**
 * What the `printable` rule refuses: control and format characters (Cc, Cf: bidi overrides
 * and isolates, zero-width characters, the BOM, line breaks) and line or paragraph separators
 * (Zl, Zp). Each can make what a human reads differ from what was stored (UTS #55 §4).
 */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

function compileRules(
  field: DescField,
  rules: FieldRules,
  read: (message: Record<string, unknown>) => unknown,
): Check {
  const pattern = rules.pattern ? new RegExp(`^(?:${rules.pattern})$`, "u") : undefined;
  // A list item's path (`scopes[2]`) is spelled out only for a violation: every request
  // would otherwise build one string per item.
  const checkItem = (value: unknown, path: string, index = -1): void => {
    const length = boundedLengthOf(value, rules.minLen, rules.maxLen);
    if (length === undefined) return;
    if (length === 0) {
      if (rules.required) throw invalidArgument(itemPath(path, index), "is required");
      return;
    }
    if (rules.minLen > 0 && length < rules.minLen) {
      throw invalidArgument(itemPath(path, index), `must be at least ${rules.minLen} long`);
    }
    if (rules.maxLen > 0 && length > rules.maxLen) {
      throw invalidArgument(itemPath(path, index), `must be at most ${rules.maxLen} long`);
    }
    if (pattern && typeof value === "string" && !pattern.test(value)) {
      throw invalidArgument(itemPath(path, index), "has an invalid format");
    }
    if (rules.printable && typeof value === "string" && NOT_PRINTABLE.test(value)) {
      throw invalidArgument(itemPath(path, index), "must not contain control or format characters");
    }
  };

  return (message, prefix) => {
    const path = prefix + field.name;
    const value = read(message);
    if (field.fieldKind === "list") {
      const items = value as unknown[];
      if (rules.required && items.length === 0) throw invalidArgument(path, "is required");
      if (rules.maxItems > 0 && items.length > rules.maxItems) {
        throw invalidArgument(path, `must have at most ${rules.maxItems} items`);
      }
      if (rules.unique && new Set(items).size !== items.length) {
        throw invalidArgument(path, "must not repeat items");
      }
      for (let i = 0; i < items.length; i++) checkItem(items[i], path, i);
      return;
    }
    if (field.fieldKind === "message") {
      if (rules.required && value === undefined) throw invalidArgument(path, "is required");
      return;
    }
    if (field.fieldKind === "enum") {
      const known = field.enum.values.some((v) => v.number === value);
      if (rules.required && value === 0) throw invalidArgument(path, "is required");
      if (rules.definedOnly && !known) throw invalidArgument(path, "has an unknown value");
      return;
    }
    if (field.fieldKind === "scalar" && isUnsigned(field.scalar) && rules.maxValue > 0n) {
      if (BigInt(value as number | bigint) > rules.maxValue) {
        throw invalidArgument(path, `must be at most ${rules.maxValue}`);
      }
      return;
    }
    checkItem(value, path);
  };
}

/** `path`, or its item `path[index]` when index ≥ 0. */
function itemPath(path: string, index: number): string {
  return index < 0 ? path : `${path}[${index}]`;
}

/**
 * The length the bounds are checked against: bytes, or a string's code points. A string of
 * n UTF-16 units has between ⌈n/2⌉ and n code points (0 only when n is 0), so when n and
 * ⌈n/2⌉ already sit within [minLen, maxLen] the exact count cannot change a decision and n
 * stands in for it: counting would walk every Verify token on every call.
 */
function boundedLengthOf(value: unknown, minLen: number, maxLen: number): number | undefined {
  if (typeof value === "string") {
    const units = value.length;
    const fitsMax = maxLen <= 0 || units <= maxLen;
    const fitsMin = minLen <= 0 || Math.ceil(units / 2) >= minLen;
    return fitsMax && fitsMin ? units : codePoints(value);
  }
  if (value instanceof Uint8Array) return value.length;
  return undefined;
}

/**
 * Characters are counted as code points, so text outside the BMP is neither over- nor
 * under-counted. Counted without allocating: this runs on every Verify token.
 */
function codePoints(value: string): number {
  let count = value.length;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

function isUnsigned(scalar: ScalarType): boolean {
  return (
    scalar === ScalarType.UINT32 ||
    scalar === ScalarType.UINT64 ||
    scalar === ScalarType.FIXED32 ||
    scalar === ScalarType.FIXED64
  );
}
