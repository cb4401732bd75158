import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type { Command } from "commander";
import type { ClientTls } from "../../../clients/typescript/src/index.js";
import { createGrpcClient, type GrpcClient } from "../../../clients/typescript/src/index.js";
import { clientDefaults, DEFAULTS } from "../../config/index.js";
import { pemPairPaths } from "../../pki/pem-files.js";
import { CliFailure, EXIT_USAGE, hostPort } from "../output.js";
import { type OperatorKeyFlags, readOperatorSigner } from "./operator-key-file.js";

const CLIENT = clientDefaults();
/** Where `gatehouse dev` and `gatehouse certs` keep the dev PKI (GATEHOUSE_DATA_DIR/pki). */
export const DEFAULT_PKI_DIR = CLIENT.pkiDir;
/** Where `agent keygen` writes keys by default. */
export const DEFAULT_KEYS_DIR = CLIENT.keysDir;
/** GATEHOUSE_SERVER, else the server's default gRPC address. */
export const DEFAULT_SERVER = CLIENT.server ?? hostPort(DEFAULTS.grpc.host, DEFAULTS.grpc.port);

/**
 * How a management command reaches Gatehouse: its gRPC port, over mutual TLS; with an
 * operator key, every call is also signed as that operator.
 */
/** The file name (without `.pem`) `certs issue --role agent` gives an agent's certificate. */
export function agentCertName(did: string): string {
  return `agent-${did.split(":").at(-1)}`;
}

export interface ConnectionFlags extends OperatorKeyFlags {
  readonly server: string;
  readonly cert?: string;
  readonly certKey?: string;
  readonly ca?: string;
  readonly pkiDir: string;
}

/**
 * Adds the connection options. The TLS key is `--cert-key`, not `--key`: commands that
 * sign as an agent use `--key` for the agent's own key, and one flag must mean one thing.
 */
export function withConnectionOptions(command: Command, defaultCert: string): Command {
  return command
    .option(
      "--server <host:port>",
      "gRPC address of Gatehouse (or GATEHOUSE_SERVER)",
      DEFAULT_SERVER,
    )
    .option("--cert <pem>", `client certificate (default: ${defaultCert}.pem in --pki-dir)`)
    .option("--cert-key <pem>", "its private key (default: <cert>-key.pem beside --cert)")
    .option("--ca <pem>", "CA of the server certificate (default: ca.pem in --pki-dir)")
    .option("--pki-dir <dir>", "where the default certificates are", DEFAULT_PKI_DIR)
    .option(
      "--operator-key <pem>",
      "sign every call as an operator with this Ed25519 key (PKCS#8 PEM); " +
        "any certificate from the Gatehouse CA then serves as --cert",
    )
    .option("--operator-domain <domain>", "the operator --operator-key belongs to");
}

/**
 * Opens a client of `service` presenting the certificate the flags name (or `<certName>.pem`
 * in the PKI dir) and signing with the operator key they name, if any; runs `use`, and closes
 * the channel whatever happens.
 */
export async function withClient<S extends GenServiceMethods, R>(
  service: GenService<S>,
  flags: ConnectionFlags,
  certName: string,
  use: (client: GrpcClient<S>) => Promise<R>,
): Promise<R> {
  const [tls, signer] = await Promise.all([readTls(flags, certName), readOperatorSigner(flags)]);
  const client = createGrpcClient(service, {
    address: flags.server,
    tls,
    ...(signer && { headers: signer.headers }),
  });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

async function readTls(flags: ConnectionFlags, certName: string): Promise<ClientTls> {
  const cert = flags.cert ?? `${join(flags.pkiDir, certName)}.pem`;
  if (flags.certKey === undefined && !cert.endsWith(".pem")) {
    throw new CliFailure(`--cert-key is required when --cert does not end in .pem`, EXIT_USAGE);
  }
  const key = flags.certKey ?? pemPairPaths(cert.slice(0, -".pem".length)).keyPath;
  const ca = flags.ca ?? join(flags.pkiDir, "ca.pem");
  const [certPem, keyPem, caPem] = await Promise.all([
    readPem(cert, "client certificate", "--cert"),
    readPem(key, "client key", "--cert-key"),
    readPem(ca, "CA certificate", "--ca"),
  ]);
  return { cert: certPem, key: keyPem, ca: caPem };
}

async function readPem(path: string, what: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new CliFailure(`cannot read the ${what} ${path} (${code}); see ${flag}`, EXIT_USAGE);
  }
}
