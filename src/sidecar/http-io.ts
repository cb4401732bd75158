import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code } from "@connectrpc/connect";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { catalogEntry, GatehouseError, invalidArgument } from "../errors/index.js";
import { retryAfterSeconds } from "../server/retry-after.js";

/** One request and its response, whether it came over HTTP/1.1 or HTTP/2 (compat API). */
export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;

/** Extra headers a refusal carries (WWW-Authenticate, DPoP-Nonce). */
export type ExtraHeaders = Readonly<Record<string, string>>;

/** The status, JSON body and headers of every refusal: `{code, reason, message, field}`. */
export function sendError(
  res: HttpResponse,
  error: GatehouseError,
  headers: ExtraHeaders = {},
): void {
  const { status, body } = errorAnswer(error);
  const retryAfter = retryAfterSeconds(error);
  sendJson(res, status, body, {
    ...(retryAfter === undefined ? {} : { "retry-after": retryAfter }),
    ...(error.dpopNonce === "" ? {} : { "dpop-nonce": error.dpopNonce }),
    ...headers,
  });
}

/** A refusal's HTTP status and JSON body, from the one catalog. */
export function errorAnswer(error: GatehouseError): { status: number; body: object } {
  const { code, http } = catalogEntry(error.reason);
  const body = {
    code: codeName(code),
    reason: `REASON_${Reason[error.reason]}`,
    message: error.description,
    ...(error.field === "" ? {} : { field: error.field }),
  };
  return { status: http, body };
}

/**
 * 405 with `Allow` (RFC 9110 §15.5.6: a 405 MUST name the methods the resource supports),
 * typed like every other refusal.
 */
export function sendMethodNotAllowed(res: HttpResponse, allowed: readonly string[]): void {
  sendError(res, new GatehouseError(Reason.HTTP_METHOD_NOT_ALLOWED), {
    allow: allowed.join(", "),
  });
}

/** What a document is read with: GET, and HEAD (RFC 9110 §9.3.2). */
export const READ_METHODS: readonly string[] = ["GET", "HEAD"];

/**
 * True when the request's method is one of `allowed`; otherwise answers 405 with `Allow` and
 * returns false (the request is answered).
 */
export function methodIsOneOf(
  req: HttpRequest,
  res: HttpResponse,
  allowed: readonly string[],
): boolean {
  if (allowed.includes(req.method ?? "")) return true;
  sendMethodNotAllowed(res, allowed);
  return false;
}

/**
 * 415 (RFC 9110 §15.5.16) for content in a media type or content coding the route does not
 * take. The catalog has no reason of its own for it: the body is INVALID_ARGUMENT's typed
 * refusal, naming what was wrong, under the status HTTP gives it. A refused content coding
 * says which one is taken (`Accept-Encoding: identity`, RFC 9110 §12.5.3).
 */
export function sendUnsupportedMediaType(
  res: HttpResponse,
  problem: "media-type" | "content-coding",
): void {
  const { body } = errorAnswer(
    invalidArgument(
      "",
      problem === "media-type"
        ? "request body must be application/json"
        : "request body must not be content-coded (identity only)",
    ),
  );
  sendJson(res, 415, body, problem === "content-coding" ? { "accept-encoding": "identity" } : {});
}

/** The media type of a `Content-Type` value, lowercase, without parameters (RFC 9110 §8.3.1). */
export function mediaType(value: string | undefined): string | undefined {
  return value?.split(";")[0]?.trim().toLowerCase();
}

export function sendJson(
  res: HttpResponse,
  status: number,
  body: unknown,
  headers: ExtraHeaders = {},
): void {
  const text = JSON.stringify(body);
  if (res.headersSent) return;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** Connect's code names (`permission_denied`): the same vocabulary as the Connect port. */
function codeName(code: Code): string {
  return Code[code].replace(/[A-Z]/g, (letter, at: number) =>
    at === 0 ? letter.toLowerCase() : `_${letter.toLowerCase()}`,
  );
}

/**
 * Reads the body up to `limit` bytes; a larger one is refused (HTTP 413) as soon as it is
 * known — from Content-Length before reading, or when the bytes pass the limit.
 */
export function readBody(req: HttpRequest, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) return Promise.reject(new GatehouseError(Reason.HTTP_BODY_TOO_LARGE));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new GatehouseError(Reason.HTTP_BODY_TOO_LARGE));
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** One header's value; a repeated header is treated as absent (ambiguous). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * One header's value when sent exactly once; undefined when absent; null when repeated
 * (Node would join the values, and which one a server reads is then anyone's guess).
 */
export function headerOnce(req: HttpRequest, name: string): string | undefined | null {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]?.toLowerCase() === name) count++;
  }
  if (count > 1) return null;
  return header(req.headers, name);
}
