import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { GetJwksResponse } from "../../../../gen/gatehouse/v1/verify_pb.js";
import type { JwksDocument, JwksSource } from "./jwks.js";

/** Largest key set read (a few dozen keys fit in a fraction of it). */
const MAX_JWKS_BYTES = 64 * 1024;

export interface HttpJwksOptions {
  /** CA certificates (PEM) to trust for an `https` URL, besides none by default. */
  readonly ca?: string | Buffer;
  /** Abort a load after this long (default 5 s). */
  readonly timeoutMs?: number;
}

/**
 * The key set at an HTTP(S) `jwks_uri` (the sidecar's `/.well-known/jwks.json`), with its
 * `Cache-Control: max-age` (RFC 9111 §5.2.2.1) as the cache hint. Redirects are not
 * followed and the body is bounded.
 */
export function httpJwksSource(url: string, options: HttpJwksOptions = {}): JwksSource {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const timeoutMs = options.timeoutMs ?? 5_000;
  return () =>
    new Promise<JwksDocument>((resolve, reject) => {
      const req = send(
        target,
        {
          method: "GET",
          headers: { accept: "application/json" },
          timeout: timeoutMs,
          ...(options.ca !== undefined && { ca: options.ca }),
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`jwks_uri answered ${res.statusCode}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_JWKS_BYTES) req.destroy(new Error("jwks_uri answer too large"));
            else chunks.push(chunk);
          });
          res.on("end", () => {
            try {
              resolve(
                parseJwks(Buffer.concat(chunks).toString("utf8"), res.headers["cache-control"]),
              );
            } catch (error) {
              reject(error);
            }
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("jwks_uri timed out")));
      req.on("error", reject);
      req.end();
    });
}

function parseJwks(body: string, cacheControl: string | undefined): JwksDocument {
  const parsed: unknown = JSON.parse(body);
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new Error("jwks_uri answer has no keys array");
  const maxAge = /(?:^|,)\s*max-age=(\d{1,9})\s*(?:,|$)/i.exec(cacheControl ?? "")?.[1];
  const noStore = /(?:^|,)\s*no-(?:store|cache)\s*(?:,|$)/i.test(cacheControl ?? "");
  return {
    keys: keys.filter(
      (key): key is Record<string, unknown> => typeof key === "object" && key !== null,
    ),
    ...(noStore
      ? { maxAgeSeconds: 0 }
      : maxAge !== undefined
        ? { maxAgeSeconds: Number(maxAge) }
        : {}),
  };
}

/** A VerifyService client as Connect or grpc-js exposes it (only GetJwks is used). */
export interface JwksRpcClient {
  getJwks(request: Record<string, never>): Promise<GetJwksResponse>;
}

/** The key set from the GetJwks RPC, with its `cache_max_age_seconds`. */
export function rpcJwksSource(client: JwksRpcClient): JwksSource {
  return async () => {
    const response = await client.getJwks({});
    return {
      keys: response.keys.map(({ kty, crv, x, y, kid, alg, use }) => ({
        kty,
        crv,
        x,
        ...(y === "" ? {} : { y }),
        kid,
        alg,
        ...(use === "" ? {} : { use }),
      })),
      ...(response.cacheMaxAgeSeconds > 0 && { maxAgeSeconds: response.cacheMaxAgeSeconds }),
    };
  };
}
