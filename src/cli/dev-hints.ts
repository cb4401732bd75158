import { join, resolve } from "node:path";
import type { Listening } from "../app/listening.js";
import { devPkiDir } from "../app/tls.js";
import { DEFAULTS, type GatehouseConfig } from "../config/index.js";
import { ensureDevPki } from "../pki/dev-pki.js";
import { hostPort } from "./output.js";

/** The dev server certificate names only loopback addresses, so clients dial those. */
const LOOPBACK_FOR_WILDCARD: Readonly<Record<string, string>> = {
  "0.0.0.0": "127.0.0.1",
  "::": "::1",
};

/**
 * Tells a developer how to reach `gatehouse dev`: where the dev certificates are and
 * commands to paste. Key files are named by path only; their content is never printed.
 */
export async function printDevHints(config: GatehouseConfig, app: Listening): Promise<void> {
  const lines = ["", `Gatehouse dev is running; data in ${config.dataDir}. Ctrl-C stops it.`];
  if (config.tls.certFile === undefined) {
    // Loads what startGatehouse generated; nothing is written at this point.
    const pki = await ensureDevPki(devPkiDir(config), { trustDomain: config.trustDomain });
    const grpc = hostPort(dialHost(config.grpc.host), app.grpcPort);
    const connect = `https://${hostPort(dialHost(config.connect.host), app.connectPort)}`;
    const ca = shellQuote(pki.ca.certPath);
    const admin = shellQuote(pki.admin.certPath);
    const adminKey = shellQuote(pki.admin.keyPath);
    const verifier = shellQuote(pki.verifier.certPath);
    const verifierKey = shellQuote(pki.verifier.keyPath);
    lines.push(
      "",
      `CA certificate  ${ca}`,
      `admin           ${admin}  (key ${adminKey})`,
      `verifier        ${verifier}  (key ${verifierKey})`,
      "",
      "List the gRPC services:",
      `  grpcurl -cacert ${ca} -cert ${admin} -key ${adminKey} ${grpc} list`,
      "Fetch the signing keys over Connect (JSON):",
      `  curl --cacert ${ca} --cert ${verifier} --key ${verifierKey} ` +
        `-H 'content-type: application/json' -d '{}' ` +
        `${connect}/gatehouse.v1.VerifyService/GetJwks`,
      "Manage it with this CLI (gatehouse --help lists every command):",
      "  (--attest-domain: you vouch for the domain; without it, prove it by DNS or HTTPS",
      "   with `gatehouse operator verify-domain` before the operator can register agents)",
      `  gatehouse operator create --domain example.com --attest-domain${cliFlags(grpc, devPkiDir(config))}`,
    );
  }
  if (app.approvalOrigin !== undefined) {
    lines.push("", `Passkey approval page: ${app.approvalOrigin}/approve`);
  }
  if (config.sidecar.workers > 1) {
    // dev serves its sidecar in its own process: a setting meant for `gatehouse sidecar` is
    // said not to apply here rather than ignored in silence.
    lines.push(
      "",
      `sidecar.workers = ${config.sidecar.workers} applies to \`gatehouse sidecar\`; ` +
        "dev runs one sidecar, in this process.",
    );
  }
  console.log(lines.join("\n"));
}

function dialHost(host: string): string {
  return LOOPBACK_FOR_WILDCARD[host] ?? host;
}

/**
 * The connection flags a management command needs when the server is not at the built-in
 * defaults (not those GATEHOUSE_SERVER or GATEHOUSE_DATA_DIR set: the shell that runs the
 * hint may not have them).
 */
function cliFlags(server: string, pkiDir: string): string {
  const builtInServer = hostPort(DEFAULTS.grpc.host, DEFAULTS.grpc.port);
  const serverFlag = server === builtInServer ? "" : ` --server ${server}`;
  const builtInPkiDir = join(DEFAULTS.dataDir, "pki");
  const pkiFlag =
    resolve(pkiDir) === resolve(builtInPkiDir) ? "" : ` --pki-dir ${shellQuote(pkiDir)}`;
  return `${serverFlag}${pkiFlag}`;
}

/** Quotes a path for a POSIX shell when it holds anything but plainly safe characters. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
