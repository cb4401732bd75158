import { invalidArgument } from "../../errors/index.js";

/**
 * Page tokens are opaque to clients: base64url of the last DID of the previous page.
 * Anything that does not decode to a DID is refused, not silently restarted.
 */
export function encodePageToken(afterDid: string | undefined): string {
  return afterDid === undefined ? "" : Buffer.from(afterDid, "utf8").toString("base64url");
}

export function decodePageToken(token: string): string | undefined {
  if (token === "") return undefined;
  const did = Buffer.from(token, "base64url").toString("utf8");
  if (!/^did:[a-z]+:[\x21-\x7e]{1,300}$/.test(did)) {
    throw invalidArgument("page_token", "is not a token this server issued");
  }
  return did;
}
