import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { recordLogLine } from "./secrets.js";

/** The real CLI, run from source the way `npm run gatehouse` does. */
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CLI_ARGS = ["--import", "tsx", "src/cli/main.ts"];

const COMMAND_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

const LISTENING = {
  grpc: /^gatehouse: grpc listening on (\S+)$/m,
  connect: /^gatehouse: connect listening on (\S+)$/m,
};

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  /** Added to the child's environment. */
  readonly env?: NodeJS.ProcessEnv;
  readonly stdin?: string;
  /** Kill the command after this long; default 30 s. */
  readonly timeoutMs?: number;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Every child not yet exited, so a failing test cannot leave a server behind. */
const running = new Map<ChildProcessWithoutNullStreams, Promise<Exit>>();

/** Runs one command to completion; a command still running after 30 s (or `timeoutMs`) is killed. */
export async function runCli(
  args: readonly string[],
  options: CliRunOptions = {},
): Promise<CliResult> {
  const { child, exit } = spawnCli(args, options.env);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk;
  });
  child.stdin.end(options.stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? COMMAND_TIMEOUT_MS);
  const { code } = await exit;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A long-running command: its output so far, and how to wait for a line or stop it. */
export interface CliProcess {
  /** The command's own process (with `--workers`, the primary). */
  readonly pid: number;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output, waiting for it if need be. */
  waitForOutput(pattern: RegExp): Promise<RegExpExecArray>;
  /** Sends `signal`; resolves with how the process ended and how long that took. */
  stop(signal?: NodeJS.Signals): Promise<CliExit>;
  /** Resolves with how the process ended, once it ends by itself. */
  exited(): Promise<Exit>;
}

export interface CliServer extends CliProcess {
  /** `host:port` of the gRPC port. */
  readonly grpcAddress: string;
  /** `https://host:port` of the Connect port. */
  readonly connectUrl: string;
}

export interface CliExit extends Exit {
  readonly ms: number;
}

/**
 * Starts a long-running command (`dev`, `serve`) and resolves once it has announced both
 * ports. Its output is also recorded for the suite's secret scan (test/scan-logs.ts).
 */
export async function startCliServer(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliServer> {
  const started = startCli(args, env);
  const [, grpc] = await started.waitForOutput(LISTENING.grpc);
  const [, connect] = await started.waitForOutput(LISTENING.connect);
  return { ...started, grpcAddress: grpc ?? "", connectUrl: `https://${connect}` };
}

/**
 * Starts a long-running command (e.g. `sidecar`) without waiting for anything: wait for its
 * own announcement with `waitForOutput`. Its output is recorded as startCliServer's is.
 */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const { child, exit } = spawnCli(args, env);
  let output = "";
  let exited = false;
  const listeners = new Set<() => void>();
  const record = (chunk: Buffer) => {
    output += chunk;
    recordLogLine(String(chunk));
    for (const listener of listeners) listener();
  };
  child.stdout.on("data", record);
  child.stderr.on("data", record);
  void exit.then(() => {
    exited = true;
    for (const listener of listeners) listener();
  });

  const waitForOutput = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        outcome();
      };
      const fail = (why: string) =>
        reject(new Error(`gatehouse ${args.join(" ")}: ${why} ${pattern}; output:\n${output}`));
      const check = () => {
        const match = pattern.exec(output);
        if (match) settle(() => resolve(match));
        else if (exited) settle(() => fail("exited without printing"));
      };
      const timer = setTimeout(() => settle(() => fail("timed out waiting for")), START_TIMEOUT_MS);
      listeners.add(check);
      check();
    });

  return {
    pid: child.pid ?? 0,
    output: () => output,
    waitForOutput,
    async stop(signal = "SIGTERM") {
      const started = performance.now();
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      const ended = await exit;
      clearTimeout(timer);
      return { ...ended, ms: performance.now() - started };
    },
    exited: () => exit,
  };
}

/** Whether a process (a worker the test saw start) is still running. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls until none of `pids` runs, or `deadlineMs` passes; returns those still running (a
 * test expects none: workers that outlive their primary).
 */
export async function stillRunning(
  pids: readonly number[],
  deadlineMs = 10_000,
): Promise<number[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const running = pids.filter(isRunning);
    if (running.length === 0 || Date.now() > until) return running;
    await sleep(50);
  }
}

/** Kills every CLI child still running and waits until each is gone. */
export async function killCliProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(([child, exit]) => {
      child.kill("SIGKILL");
      return exit;
    }),
  );
}

function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
    cwd: REPO_ROOT,
    env: { ...inheritedEnv(), ...env },
  });
  // "close", not "exit": it comes after the output streams are drained.
  const exit = new Promise<Exit>((resolve) => {
    child.once("close", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  running.set(child, exit);
  return { child, exit };
}

/** This process's environment without Gatehouse settings: a developer's shell must not leak in. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith("GATEHOUSE_") && name !== "REDIS_URL",
    ),
  );
}
