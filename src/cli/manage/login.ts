import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Command } from "commander";
import { agentDid, loginWithChallenge } from "../../../clients/typescript/src/agent/index.js";
import { GateService } from "../../../gen/gatehouse/v1/gate_pb.js";
import { readAgentKeyFile } from "./agent-key-file.js";
import {
  agentCertName,
  type ConnectionFlags,
  withClient,
  withConnectionOptions,
} from "./connection.js";

interface LoginFlags extends ConnectionFlags {
  readonly key: string;
  readonly domain: string;
  readonly scope: string[];
  readonly audience: string;
}

/**
 * `gatehouse login`: the access token is the command's output (stdout, so it can be piped
 * or captured); everything else goes to stderr. This is the one command that prints a token.
 */
export function loginCommand(): Command {
  const login = new Command("login")
    .description("log in as an agent (Challenge, Submit, Token) and print the access token")
    .requiredOption("--key <file>", "the agent's private key, from `agent keygen`")
    .requiredOption("--domain <domain>", "the agent's operator domain")
    .requiredOption("--scope <scope...>", "a scope the token should carry (repeatable)")
    .requiredOption("--audience <audience>", "the service the token is for");
  // The certificate's URI SAN must be the agent's DID; `certs issue --role agent` names it so.
  return withConnectionOptions(login, "agent-<DID id>").action(async (flags: LoginFlags) => {
    const key = await readAgentKeyFile(flags.key);
    const did = agentDid(key, flags.domain);
    const certName = agentCertName(did);
    const request = { key, did, scopes: flags.scope, audience: flags.audience };
    // Challenge → Submit → Token by the SDK, which signs only a challenge matching the request.
    const token = await withClient(GateService, flags, certName, (gate) =>
      loginWithChallenge(gate, request),
    );
    process.stdout.write(`${token.accessToken}\n`);
    const expiry = token.expiresAt ? timestampDate(token.expiresAt).toISOString() : "unknown";
    console.error(`token for ${did} expires at ${expiry}`);
  });
}
