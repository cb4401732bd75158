import type * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type * as grpc from "@grpc/grpc-js";
import type { Clock } from "../clock.js";
import type { Endpoint, GatehouseConfig } from "../config/index.js";
import { answerScrapes } from "../observability/cluster-metrics.js";
import { registerStateMetrics } from "../observability/gauges.js";
import type { Logger } from "../observability/logger.js";
import type { GatehouseMetrics } from "../observability/metrics.js";
import { createMetricsListener, type MetricsListener } from "../observability/metrics-listener.js";
import { serverReadiness } from "../observability/readiness.js";
import { createConnectServer } from "../server/connect.js";
import { createGrpcServer, grpcServerCredentials } from "../server/grpc.js";
import { createIntrospection } from "../server/introspection.js";
import type { TlsMaterial } from "../server/tls.js";
import type { Composed } from "./compose.js";
import { watchStoreHealth } from "./store-health.js";
import { isWorkerProcess } from "./workers.js";

export interface ServeOptions {
  readonly config: GatehouseConfig;
  readonly composed: Composed;
  readonly tls: TlsMaterial;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The registry the metrics listener serves; absent when metrics are off. */
  readonly metrics?: GatehouseMetrics;
}

/** The listeners serving a composition, and how to drain them. */
export interface Serving {
  readonly grpcPort: number;
  readonly connectPort: number;
  /** The passkey approval page's origin (`https://…`); undefined when it is disabled. */
  readonly approvalOrigin: string | undefined;
  /** The plain-HTTP metrics and health listener's port; undefined when it is disabled. */
  readonly metricsPort: number | undefined;
  /**
   * Stops accepting calls, drains in-flight ones (bounded by shutdownGraceMs), then closes
   * the composition. The store is the caller's to close.
   */
  stop(): Promise<void>;
}

/**
 * Serves composed services on the gRPC and Connect ports (mTLS), the approval page and the
 * metrics listener; reports health by the store's; drains on stop.
 */
export async function serve(options: ServeOptions): Promise<Serving> {
  const { config, composed, tls, clock, logger, metrics } = options;
  const { approval, store } = composed;
  const introspection = createIntrospection(composed.bindings);
  const transport = {
    tls,
    maxMessageBytes: config.limits.maxMessageBytes,
    transport: config.transport,
  };
  const grpcServer = createGrpcServer({
    ...transport,
    methods: composed.methods("grpc"),
    extras: introspection.addToServer,
  });
  const grpcPort = await bindGrpc(grpcServer, config.grpc, grpcServerCredentials(tls));
  const connectServer = createConnectServer({
    ...transport,
    methods: composed.methods("connect"),
    hotRoutes: ["gatehouse.v1.VerifyService/Verify"],
  });
  const sessions = trackSessions(connectServer);
  const connectPort = await listen(connectServer, config.connect);
  await approval?.start();
  let draining = false;
  let metricsListener: MetricsListener | undefined;
  let stopAnswering = (): void => {};
  let storeHealth: { stop(): void } | undefined;

  const stop = async (): Promise<void> => {
    // Not ready from now on (orchestrators stop routing here); live until the very end.
    draining = true;
    storeHealth?.stop();
    introspection.setServing(false);
    composed.quiesce();
    const grace = setTimeout(() => {
      grpcServer.forceShutdown();
      for (const session of sessions) session.destroy();
      approval?.forceClose();
    }, config.shutdownGraceMs).unref();
    await Promise.all([
      new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve())),
      new Promise<void>((resolve) => {
        connectServer.close(() => resolve());
        for (const session of sessions) session.close();
      }),
      approval?.close(),
    ]);
    clearTimeout(grace);
    await composed.close();
    stopAnswering();
    await metricsListener?.close();
  };
  if (metrics) {
    const readiness = serverReadiness({ store, keys: composed.keys, draining: () => draining });
    registerStateMetrics(metrics.registry, {
      clock,
      keys: composed.keys,
      rotationIntervalMs: config.keys.rotationIntervalSeconds * 1000,
      audit: composed.audit,
      readiness,
    });
    try {
      // A `--workers` worker answers its primary, which alone listens (cluster-metrics.ts).
      if (isWorkerProcess()) stopAnswering = answerScrapes(metrics.registry, readiness);
      else {
        metricsListener = await createMetricsListener({
          listen: config.metrics,
          registry: metrics.registry,
          readiness,
        });
      }
    } catch (error) {
      await stop(); // the mTLS ports are bound already: release them
      throw error;
    }
  }
  introspection.setServing(true);
  storeHealth = watchStoreHealth({
    ping: () => store.ping(),
    setServing: introspection.setServing,
    logger,
  });
  return {
    grpcPort,
    connectPort,
    approvalOrigin: approval?.origin(),
    metricsPort: metricsListener?.port,
    stop,
  };
}

function bindGrpc(
  server: grpc.Server,
  endpoint: Endpoint,
  credentials: grpc.ServerCredentials,
): Promise<number> {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${endpoint.port}`, credentials, (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

function listen(server: http2.Http2SecureServer, endpoint: Endpoint): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Open HTTP/2 sessions, so shutdown can close them (server.close waits for them). */
function trackSessions(server: http2.Http2SecureServer): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  return sessions;
}
