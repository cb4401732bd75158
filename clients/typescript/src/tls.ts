import { readFile } from "node:fs/promises";

/** A client certificate, its key, and the CA that signed the server's certificate. */
export interface ClientTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

export async function readClientTls(paths: {
  cert: string;
  key: string;
  ca: string;
}): Promise<ClientTls> {
  const [cert, key, ca] = await Promise.all([
    readFile(paths.cert),
    readFile(paths.key),
    readFile(paths.ca),
  ]);
  return { cert, key, ca };
}
