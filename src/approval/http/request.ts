import type { IncomingMessage } from "node:http";
import { invalidArgument } from "../../errors/index.js";
import { HttpError } from "./http-error.js";

/** The largest JSON body the API reads: a WebAuthn response is a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a JSON object body of at most MAX_BODY_BYTES. Only `application/json` is accepted: a
 * cross-site HTML form cannot send it, a second line behind the Origin and CSRF checks.
 */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, "request body must be application/json");
  }
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
    throw new HttpError(413, "request body too large");
  }
  const text = await readText(req);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidArgument("body", "is not valid JSON");
  }
  if (!isRecord(value)) throw invalidArgument("body", "must be a JSON object");
  return value;
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A required string field of at most `maxLength` characters matching `pattern`. */
export function stringField(
  body: Record<string, unknown>,
  name: string,
  pattern: RegExp,
  maxLength: number,
): string {
  const value = body[name];
  if (typeof value !== "string" || value.length > maxLength || !pattern.test(value)) {
    throw invalidArgument(name, "is missing or malformed");
  }
  return value;
}

/** A required JSON object field. */
export function objectField(body: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = body[name];
  if (!isRecord(value)) throw invalidArgument(name, "must be an object");
  return value;
}

/** The value of one cookie, undefined when absent. */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const pair of (req.headers.cookie ?? "").split(";")) {
    const at = pair.indexOf("=");
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}
