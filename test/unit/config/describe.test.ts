import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { describeConfig, loadConfig } from "../../../src/config/index.js";

describe("describeConfig", () => {
  it("summarises the defaults one setting a line", () => {
    const summary = describeConfig(loadConfig({ mode: "dev", env: {} }));
    expect(summary.split("\n")).toEqual([
      "mode             dev",
      "issuer           https://gatehouse.local",
      "trust domain     gatehouse.local",
      `data dir         ${resolve(".gatehouse")}`,
      "grpc             127.0.0.1:7443",
      "connect          127.0.0.1:7444",
      "tls              dev PKI; client certificate required",
      "store            embedded",
      "tokens           ttl 300s (max 3600s), clock skew 30s, EdDSA",
      "challenges       ttl 60s, pass ttl 60s",
      "challenge kinds  reasoning difficulty 2, deadline 20s; iterated hash 100000 rounds on 1 worker(s); hashcash 18 bits",
      "rate limits      per 60s: challenge 120/identity, 1200/address; submit 120/identity, 1200/address; adaptive proof of work off",
      "dpop             proof max age 60s, server nonces off",
      "max message      65536 bytes",
      "transport        100 streams/connection, headers 16384 bytes and 64 fields, request 10000 ms, idle 60000 ms, 64 connections/address, 10 MB/connection",
      "audit denials    folded per key into one entry per 60s window, at most 256 keys per window",
      "domains          resolvers system; timeout 5000 ms; well-known on port 443; private addresses refused; proofs hold 2592000s",
      "signed requests  operators may sign requests; accepted within ±60s",
      "grants           at most 5 pending per agent, lapse after 86400s; last 3600s (max 2592000s); denial cooldown 60s doubling to 86400s",
      "approval         127.0.0.1:7445 as https://localhost:<port>; invites 86400s, sessions 900s",
      "sidecar          127.0.0.1:7447 (TLS, HTTP/1.1 and HTTP/2) -> the grpc endpoint; " +
        "0 forward-auth route(s); body 65536 B, headers 16384 B, request 15000 ms, " +
        "upstream 5000 ms, 1024 connections",
      "metrics          http://127.0.0.1:7446",
      "role             all",
      "log level        info",
      "shutdown grace   10000 ms",
      "workers          1 process",
    ]);
  });

  it("shows TLS files and bracketed IPv6 hosts", () => {
    const config = loadConfig({
      mode: "serve",
      env: {
        GATEHOUSE_GRPC_HOST: "::",
        GATEHOUSE_TLS_CERT: "/pki/server.crt",
        GATEHOUSE_TLS_KEY: "/pki/server.key",
        GATEHOUSE_TLS_CA: "/pki/ca.crt",
        GATEHOUSE_REQUIRE_CLIENT_CERT: "0",
      },
    });
    const summary = describeConfig(config);
    expect(summary).toContain("grpc             [::]:7443");
    expect(summary).toContain(
      "tls              cert /pki/server.crt, key /pki/server.key, ca /pki/ca.crt; client certificate optional",
    );
  });

  it("shows sidecar workers when there are more than one", () => {
    const config = loadConfig({ mode: "dev", env: { GATEHOUSE_SIDECAR_WORKERS: "3" } });
    expect(describeConfig(config)).toContain(
      "1024 connections per process, 3 processes sharing the port",
    );
  });

  it("redacts the credentials of the Redis URL", () => {
    const password = "s3cr3t-Pa55word";
    const config = loadConfig({
      mode: "dev",
      env: {
        REDIS_URL: `rediss://default:${password}@cache.internal:6380/2?password=${password}`,
        GATEHOUSE_REDIS_CLUSTER: "true",
      },
    });
    const summary = describeConfig(config);
    expect(summary).toContain(
      "store            redis rediss://***@cache.internal:6380/2 (cluster)",
    );
    expect(summary).not.toContain(password);
  });
});
