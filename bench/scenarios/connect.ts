/** Verify over Connect JSON (the HTTP path), a warm-up then a measured run. */
import type { ClientTls } from "../../src/client/credentials.js";
import { type ConnectTarget, runConnectLoad } from "../connect-load.js";
import { type Summary, summarize } from "../report.js";
import type { Settings } from "../settings.js";
import type { ServerProcess } from "../spawn-server.js";

/** Verify of a valid bearer token as Connect JSON: correct only when allowed for the agent. */
export function connectVerifyTarget(route: {
  token: string;
  audience: string;
  scope: string;
  did: string;
}): ConnectTarget {
  const body = { token: route.token, audience: route.audience, requiredScopes: [route.scope] };
  return {
    name: "verify-connect",
    path: "/gatehouse.v1.VerifyService/Verify",
    body: Buffer.from(JSON.stringify(body)),
    check: (answer) => {
      const { allowed, agentDid, reason } = answer as Record<string, unknown>;
      if (allowed !== true) return `denied: ${String(reason)}`;
      return agentDid === route.did ? undefined : "allowed, but for another agent";
    },
  };
}

export async function measureConnect(
  target: ConnectTarget,
  context: { settings: Settings; server: ServerProcess; tls: ClientTls },
): Promise<Summary> {
  const { settings, server, tls } = context;
  const options = {
    port: server.connectPort,
    tls,
    connections: settings.channels,
    concurrency: settings.concurrency,
  };
  await runConnectLoad(target, { ...options, durationMs: settings.warmupSeconds * 1000 });
  const before = await server.usage({ collectFirst: true });
  const result = await runConnectLoad(target, { ...options, durationMs: settings.seconds * 1000 });
  return summarize(result, settings.concurrency, before, await server.usage());
}
