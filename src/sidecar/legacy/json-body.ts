import { type HttpRequest, header, readBody } from "../http-io.js";
import { LegacyRefusal } from "./refusal.js";

/**
 * The request body as one JSON object, at most `limit` bytes (413 beyond). Anything else —
 * another media type, bad JSON, an array — is a 400 in the gate's words, never a 500.
 */
export async function readJsonObject(
  req: HttpRequest,
  limit: number,
): Promise<Record<string, unknown>> {
  const type = (header(req.headers, "content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") throw malformed("the body must be application/json");
  const text = (await readBody(req, limit)).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed("the body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed("the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function malformed(detail: string): LegacyRefusal {
  return new LegacyRefusal(400, detail);
}

/** A string member of at most `max` characters; undefined when absent or null. */
export function optionalString(
  body: Record<string, unknown>,
  name: string,
  max: number,
): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length > max) {
    throw malformed(`${name} must be a string of at most ${max} characters`);
  }
  return value;
}

/** A required, non-empty string member of at most `max` characters. */
export function requiredString(body: Record<string, unknown>, name: string, max: number): string {
  const value = optionalString(body, name, max);
  if (value === undefined || value === "") {
    throw malformed(`${name} is required`);
  }
  return value;
}
