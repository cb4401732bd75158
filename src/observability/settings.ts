import { endpointSettings } from "../config/endpoint.js";
import { boolean, oneOf } from "../config/parsers.js";
import { setting } from "../config/setting.js";
import { LOG_LEVELS } from "./log-levels.js";

/**
 * The plain-HTTP listener for Prometheus and orchestrators: `/metrics`, `/healthz`, `/readyz`.
 * No TLS and no client certificate (kubelet probes and scrapers carry none), so it serves
 * nothing secret and defaults to loopback; never one of the mTLS ports.
 */
export const metricsSection = {
  enabled: setting({
    env: "GATEHOUSE_METRICS_ENABLED",
    default: true,
    parse: boolean,
    doc: "the plain-HTTP metrics and health listener (not one of the mTLS ports)",
  }),
  ...endpointSettings("GATEHOUSE_METRICS", 7446, "where it listens; never one of the mTLS ports"),
};

export const logSection = {
  level: setting({
    env: "GATEHOUSE_LOG_LEVEL",
    default: "info",
    parse: oneOf(LOG_LEVELS),
    doc: "pino level; `debug` logs one line per RPC",
  }),
};
