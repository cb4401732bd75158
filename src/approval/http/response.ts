import type { IncomingMessage, ServerResponse } from "node:http";
import type { GatehouseError } from "../../errors/index.js";
import { retryAfterSeconds } from "../../server/retry-after.js";
import { SECURITY_HEADERS } from "./headers.js";
import { errorBody, headersOf, statusOf } from "./http-error.js";

/** A static file of the page, read once at start. */
export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** What a route answers. */
export type Reply =
  | {
      readonly kind: "json";
      readonly body: unknown;
      /** A Set-Cookie header value (session start or end). */
      readonly setCookie?: string;
    }
  | { readonly kind: "asset"; readonly asset: Asset };

export const json = (body: unknown, setCookie?: string): Reply =>
  setCookie === undefined ? { kind: "json", body } : { kind: "json", body, setCookie };

/** Writes a reply with the security headers every response carries. */
export function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (reply.kind === "asset") {
    send(req, res, 200, reply.asset.contentType, reply.asset.body);
    return;
  }
  if (reply.setCookie !== undefined) res.setHeader("set-cookie", reply.setCookie);
  send(req, res, 200, JSON_TYPE, Buffer.from(JSON.stringify(reply.body)));
}

/** Writes a refusal as `{reason, message}`: the public message only, never a cause. */
export function writeError(req: IncomingMessage, res: ServerResponse, error: GatehouseError): void {
  for (const [name, value] of Object.entries(headersOf(error))) res.setHeader(name, value);
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== undefined) res.setHeader("retry-after", retryAfter);
  send(req, res, statusOf(error), JSON_TYPE, Buffer.from(JSON.stringify(errorBody(error))));
}

const JSON_TYPE = "application/json; charset=utf-8";

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  contentType: string,
  body: Buffer,
): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  // A body left unread (too large, or refused before reading) is not drained: drop the socket.
  if (!req.complete) res.setHeader("connection", "close");
  res.writeHead(status, { "content-type": contentType, "content-length": body.length });
  res.end(body);
}
