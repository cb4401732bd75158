import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Endpoint } from "../config/index.js";
import type { ReadinessCheck } from "./readiness.js";

export interface MetricsListenerOptions {
  readonly listen: Endpoint;
  /** `/metrics`: a registry, or the aggregated scrape of a process group (cluster-metrics.ts). */
  readonly registry: MetricsSource;
  /** `/readyz`; without one, ready whenever live. */
  readonly readiness?: ReadinessCheck;
}

export type MetricsSource = Pick<Registry, "contentType" | "metrics">;

export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Scrapes and probes are small and quick: a slow client is cut off. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The plain-HTTP listener for Prometheus and orchestrators, apart from the mTLS ports
 * (scrapers and kubelet probes present no client certificate):
 *
 *   GET /metrics   the registry in Prometheus' text format
 *   GET /healthz   liveness: 200 while the process answers at all
 *   GET /readyz    readiness: 200 or 503 with every check by name (JSON)
 *
 * It serves nothing secret: metric labels never carry a caller's value (metric-names.ts).
 */
export async function createMetricsListener(
  options: MetricsListenerOptions,
): Promise<MetricsListener> {
  const { registry, readiness } = options;
  const server = createServer((request, response) => {
    route(request, response, registry, readiness).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  registry: MetricsSource,
  readiness: ReadinessCheck | undefined,
): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  switch (new URL(request.url ?? "/", "http://metrics").pathname) {
    case "/metrics":
      response.writeHead(200, { "content-type": registry.contentType });
      response.end(await registry.metrics());
      return;
    case "/healthz":
      reply(response, 200, { status: "ok" });
      return;
    case "/readyz": {
      const report = readiness ? await readiness() : { ready: true, checks: {} };
      reply(response, report.ready ? 200 : 503, {
        status: report.ready ? "ready" : "not ready",
        checks: report.checks,
      });
      return;
    }
    default:
      reply(response, 404, { status: "not found" });
  }
}

function reply(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  response.end(JSON.stringify(body));
}
