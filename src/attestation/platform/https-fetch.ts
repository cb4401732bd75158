import { request } from "node:https";
import type { FetchImplementation } from "jose";

/** A key set is small; a larger answer is refused rather than buffered. */
const MAX_RESPONSE_BYTES = 256 * 1024;

/**
 * The fetch jose's remote JWKS uses, over node:https so the issuer's certificate can chain to
 * an extra CA (a private PKI) besides Node's roots when `ca` is given. No redirects are
 * followed (jose then sees a non-200 answer); jose's timeout aborts through `signal`.
 */
export function httpsFetch(ca: string | undefined): FetchImplementation {
  return (url, { headers, signal }) =>
    new Promise((resolve, reject) => {
      const options = { headers: Object.fromEntries(headers), signal, ...(ca ? { ca } : {}) };
      const req = request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error("JWKS response too large"));
          else chunks.push(chunk);
        });
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve(new Response(body, { status: res.statusCode ?? 502 }));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
}
