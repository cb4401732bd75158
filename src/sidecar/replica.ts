import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { VerifyService } from "../../gen/gatehouse/v1/verify_pb.js";
import { composeGatehouse } from "../app/compose.js";
import { watchStoreHealth } from "../app/store-health.js";
import type { ClientTls } from "../client/credentials.js";
import type { Clock } from "../clock.js";
import type { GatehouseConfig } from "../config/index.js";
import { GatehouseError } from "../errors/index.js";
import { createAddressMatcher } from "../identity/address-list.js";
import type { Logger } from "../observability/logger.js";
import type { TlsMaterial } from "../server/tls.js";
import { createStore } from "../store/index.js";
import { createForwardedHeaders, type Upstream } from "./upstream.js";

/** The peer address of the in-process connection: the sidecar's own process, loopback. */
export const REPLICA_PEER_ADDRESS = "127.0.0.1";

export interface ReplicaOptions {
  readonly config: GatehouseConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Gatehouse's TLS material: certificates are checked against its CA. */
  readonly tls: TlsMaterial;
  /** The sidecar's `proxy` certificate: the identity its Verify calls are made with. */
  readonly proxyTls: ClientTls;
  /** The upstream's address: the authority a forwarded identity's MAC binds, as upstream. */
  readonly address: string;
  /** Everything but Verify still goes to Gatehouse. */
  readonly upstream: Upstream;
}

const { verify } = VerifyService.method;

export interface VerifierReplica extends Upstream {
  /** False while the store does not answer (`/readyz` then answers 503). */
  serving(): boolean;
}

/**
 * A verifier replica in the sidecar's process (issue 13, "The process"): Gatehouse composed
 * with `role = "verifier"` on the shared Redis store, called through the in-memory transport,
 * so Verify runs the dispatcher's CALL_STEPS and the same pipeline, caches and invalidation
 * bus as any verifier replica, without a gRPC hop. Only Verify is answered here; every other
 * call goes upstream. While the store does not answer a ping, Verify is refused UNAVAILABLE
 * (503, fail closed), as a replica's health turns NOT_SERVING.
 */
export async function startVerifierReplica(options: ReplicaOptions): Promise<VerifierReplica> {
  const { config, clock, logger, upstream } = options;
  const problems = replicaProblems(config);
  if (problems.length > 0 || config.store.kind !== "redis") throw new Error(problems.join("; "));
  const store = await createStore({
    ...config.store,
    clock,
    onError: (err) => logger.warn({ err }, "redis error"),
  });
  const composed = await composeGatehouse({
    config: { ...config, role: "verifier" },
    store,
    clock,
    logger,
    tls: options.tls,
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  let serving = true;
  const health = watchStoreHealth({
    ping: () => store.ping(),
    setServing: (reachable) => {
      serving = reachable;
    },
    logger,
  });
  const connection = composed.inMemory().connect({
    certificate: options.proxyTls.cert,
    address: REPLICA_PEER_ADDRESS,
    authority: options.address,
  });
  const forwardedHeaders = createForwardedHeaders({
    address: options.address,
    hmacSecret: hmacSecretOf(config),
    clock,
  });
  const verifyPath = `/${verify.parent.typeName}/${verify.name}`;
  return {
    serving: () => serving,
    call(method, request, onBehalfOf) {
      if (method !== verify) return upstream.call(method, request, onBehalfOf);
      if (!serving) return Promise.reject(new GatehouseError(Reason.UNAVAILABLE));
      const headers = forwardedHeaders(verifyPath, onBehalfOf);
      return connection.call(method as DescMethodUnary, request, { headers });
    },
    async close() {
      health.stop();
      composed.quiesce();
      await upstream.close();
      // A stop while Redis is down still stops: what could not be flushed is logged.
      const unclean = (err: unknown) => logger.warn({ err }, "verifier replica closed uncleanly");
      await composed.close().catch(unclean);
      await store.close().catch(unclean);
    },
  };
}

/**
 * What a replica needs: the shared Redis store, and loopback among the trusted proxy peers
 * (a caller's forwarded identity reaches the replica from its own process).
 */
export function replicaProblems(config: GatehouseConfig): string[] {
  const setting = 'sidecar.verifier / GATEHOUSE_SIDECAR_VERIFIER = "replica"';
  const problems: string[] = [];
  if (config.store.kind !== "redis") {
    problems.push(`${setting} needs the shared Redis store ([store] kind = "redis")`);
  }
  const { proxy } = config;
  if (proxy.enabled && !createAddressMatcher(proxy.trustedPeers)(REPLICA_PEER_ADDRESS)) {
    problems.push(`${setting} needs ${REPLICA_PEER_ADDRESS} in proxy.trusted_peers`);
  }
  return problems;
}

function hmacSecretOf(config: GatehouseConfig): string {
  return config.proxy.enabled ? config.proxy.hmacSecret : "";
}
