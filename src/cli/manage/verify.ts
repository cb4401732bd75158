import { toJson } from "@bufbuild/protobuf";
import { Command } from "commander";
import { JwkSchema } from "../../../gen/gatehouse/v1/resources_pb.js";
import {
  GetIssuerMetadataResponseSchema,
  VerifyResponseSchema,
  VerifyService,
} from "../../../gen/gatehouse/v1/verify_pb.js";
import { EXIT_FAILURE, printJson, printMessage } from "../output.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";

interface VerifyFlags extends ConnectionFlags {
  readonly token: string;
  readonly audience: string;
  readonly scope?: string[];
}

const DEFAULT_CERT = "verifier";

/** `gatehouse verify`: exit 0 when the token may pass, 1 when it is denied. */
export function verifyCommand(): Command {
  const verify = new Command("verify")
    .description("ask Gatehouse whether a token may pass; prints the decision (verifier cert)")
    .requiredOption("--token <jwt>", 'the access token, or "-" to read it from stdin')
    .requiredOption("--audience <audience>", "the audience you verify for")
    .option("--scope <scope...>", "a scope the token must grant (repeatable)");
  return withConnectionOptions(verify, DEFAULT_CERT).action(async (flags: VerifyFlags) => {
    const token = await readToken(flags.token);
    const decision = await withClient(VerifyService, flags, DEFAULT_CERT, (client) =>
      client.verify({ token, audience: flags.audience, requiredScopes: flags.scope ?? [] }),
    );
    printMessage(VerifyResponseSchema, decision);
    if (!decision.allowed) process.exitCode = EXIT_FAILURE;
  });
}

/** `gatehouse jwks`: the public signing keys as an RFC 7517 JWK Set. */
export function jwksCommand(): Command {
  const jwks = new Command("jwks").description("print the public signing keys (JWK Set)");
  return withConnectionOptions(jwks, DEFAULT_CERT).action(async (flags: ConnectionFlags) => {
    const { keys } = await withClient(VerifyService, flags, DEFAULT_CERT, (client) =>
      client.getJwks({}),
    );
    // Proto JSON without empty fields, so an OKP key carries no `"y": ""`.
    printJson({ keys: keys.map((key) => toJson(JwkSchema, key)) });
  });
}

/** `gatehouse issuer-metadata`: the issuer, its endpoints and algorithms (RFC 8414 §2 names). */
export function issuerMetadataCommand(): Command {
  const metadata = new Command("issuer-metadata").description(
    "print the issuer metadata: issuer, JWKS and token endpoints, algorithms, grant types",
  );
  return withConnectionOptions(metadata, DEFAULT_CERT).action(async (flags: ConnectionFlags) => {
    const response = await withClient(VerifyService, flags, DEFAULT_CERT, (client) =>
      client.getIssuerMetadata({}),
    );
    printMessage(GetIssuerMetadataResponseSchema, response);
  });
}

/** Reading from stdin keeps the token out of the shell history and the process list. */
async function readToken(value: string): Promise<string> {
  if (value !== "-") return value;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}
