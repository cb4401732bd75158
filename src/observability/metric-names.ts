/**
 * Every metric Gatehouse exports, named once: the registry (metrics.ts), the alert rules and
 * the dashboard (infra/) and the tests read these names from here. Labels are listed with
 * each metric; every label value comes from a finite set the server owns (a method of its own
 * descriptors, a status code, a `Reason`, a challenge kind, a store operation) and never from
 * a caller (no DID, jti, domain, address or token).
 */
export const METRICS = {
  rpcRequests: {
    name: "gatehouse_rpc_requests_total",
    help: "RPCs answered, by transport, full method name and status code",
    labels: ["transport", "method", "code"],
  },
  rpcDuration: {
    name: "gatehouse_rpc_duration_seconds",
    help: "Time from dispatch to answer, by transport and full method name",
    labels: ["transport", "method"],
  },
  decisions: {
    name: "gatehouse_decisions_total",
    help: "Verify and ext_authz Check decisions, by RPC and typed reason (OK when allowed)",
    labels: ["rpc", "reason"],
  },
  challenges: {
    name: "gatehouse_challenges_total",
    help: "Challenges issued, passed (Submit accepted) and failed, by kind",
    labels: ["kind", "outcome"],
  },
  logins: {
    name: "gatehouse_logins_total",
    help: "Token requests (logins), by grant and outcome",
    labels: ["grant", "outcome"],
  },
  loginDuration: {
    name: "gatehouse_login_duration_seconds",
    help: "Time to answer a Token request, by grant",
    labels: ["grant"],
  },
  storeDuration: {
    name: "gatehouse_store_operation_duration_seconds",
    help: "Store operation latency, by port and method",
    labels: ["operation"],
  },
  storeErrors: {
    name: "gatehouse_store_errors_total",
    help: "Store operations that failed, by port and method",
    labels: ["operation"],
  },
  cacheLookups: {
    name: "gatehouse_verify_cache_lookups_total",
    help: "Verify cache look-ups, by cache and result (hit or miss)",
    labels: ["cache", "result"],
  },
  invalidations: {
    name: "gatehouse_invalidation_events_total",
    help: "Invalidation events this replica received from the store's bus, by kind",
    labels: ["kind"],
  },
  signingKeyAge: {
    name: "gatehouse_signing_key_age_seconds",
    help: "How long the current signing key has been signing",
    labels: [],
  },
  signingKeyNextRotation: {
    name: "gatehouse_signing_key_next_rotation_seconds",
    help: "Seconds until the next signing key takes over (negative: the rotation is overdue)",
    labels: [],
  },
  auditQueueDepth: {
    name: "gatehouse_audit_queue_depth",
    help: "Audit entries accepted and not yet written",
    labels: [],
  },
  auditWriteFailures: {
    name: "gatehouse_audit_write_failures_total",
    help: "Audit entries whose write failed (the change's RPC failed with it; folded denial counts are kept for the next window)",
    labels: [],
  },
  ready: {
    name: "gatehouse_ready",
    help: "1 when /readyz answers 200 (store reachable, signing keys loaded, not draining)",
    labels: [],
  },
} as const;

export type MetricKey = keyof typeof METRICS;

/** Exported by prom-client's default collectors (event-loop lag among them), not named above. */
export const DEFAULT_METRIC_PREFIXES = ["process_", "nodejs_"] as const;
