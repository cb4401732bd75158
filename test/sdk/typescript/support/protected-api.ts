import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { http1 } from "../../../support/sidecar.js";

/** An API behind the sidecar's forward-auth, as nginx `auth_request` puts it there. */
export interface ProtectedApi {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Statuses of the forward-auth answers, in order. */
  readonly decisions: number[];
  close(): Promise<void>;
}

/** Headers of a refusal the proxy passes on to the client (RFC 6750 §3, RFC 9449 §8). */
const RELAYED = ["www-authenticate", "dpop-nonce", "retry-after"] as const;

/**
 * A plain-HTTP API that asks the sidecar's `/auth` about each request (the original method,
 * URI, host and scheme, the client's `Authorization` and `DPoP`), answers 200 with the
 * identity Gatehouse names, and relays a refusal's status and challenge headers.
 */
export async function startProtectedApi(sidecarUrl: string, caPem: string): Promise<ProtectedApi> {
  const decisions: number[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const forwarded = (name: string) => {
      const value = req.headers[name];
      return typeof value === "string" ? { [name]: value } : {};
    };
    const auth = await http1(caPem, `${sidecarUrl}/auth`, {
      headers: {
        "x-original-method": req.method ?? "GET",
        "x-original-uri": req.url ?? "/",
        "x-forwarded-host": req.headers.host ?? "",
        "x-forwarded-proto": "http",
        ...forwarded("authorization"),
        ...forwarded("dpop"),
      },
    });
    decisions.push(auth.status);
    if (auth.status !== 200) {
      const headers: Record<string, string> = {};
      for (const name of RELAYED) {
        const value = auth.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      res.writeHead(auth.status, headers).end();
      return;
    }
    const body = JSON.stringify({ agent: auth.headers["x-gatehouse-agent"], path: req.url });
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    decisions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
