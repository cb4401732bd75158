import { createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  createOperatorSigner,
  type OperatorSigner,
} from "../../../clients/typescript/src/operator/index.js";
import { CliFailure, EXIT_USAGE } from "../output.js";

export interface OperatorKeyFlags {
  /** PKCS#8 PEM Ed25519 private key. */
  readonly operatorKey?: string;
  readonly operatorDomain?: string;
}

/**
 * The signer `--operator-key` and `--operator-domain` ask for (both or neither); undefined
 * when neither is given. Errors name the file, never its content.
 */
export async function readOperatorSigner(
  flags: OperatorKeyFlags,
): Promise<OperatorSigner | undefined> {
  const { operatorKey: path, operatorDomain: domain } = flags;
  if (path === undefined && domain === undefined) return undefined;
  if (path === undefined || domain === undefined) {
    throw new CliFailure("--operator-key and --operator-domain go together", EXIT_USAGE);
  }
  let pem: string;
  try {
    pem = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new CliFailure(`cannot read the operator key ${path} (${code})`, EXIT_USAGE);
  }
  try {
    return createOperatorSigner({ domain, privateKey: createPrivateKey(pem) });
  } catch {
    // Reported in the user's terms; OpenSSL's decoder message would not help them.
    throw new CliFailure(`${path} is not an Ed25519 private key in PEM`, EXIT_USAGE);
  }
}
