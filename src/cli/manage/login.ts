import { timestampDate, timestampMs } from "@bufbuild/protobuf/wkt";
import { Command } from "commander";
import {
  ChallengeKind,
  GateService,
  type TokenResponse,
} from "../../../gen/gatehouse/v1/gate_pb.js";
import { type AgentKey, agentDid, signChallenge } from "../../client/agent-keys.js";
import type { GrpcClient } from "../../client/grpc-client.js";
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

interface LoginRequest {
  readonly key: AgentKey;
  readonly did: string;
  readonly scopes: readonly string[];
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
    const token = await withClient(GateService, flags, certName, (gate) => loginAs(gate, request));
    process.stdout.write(`${token.accessToken}\n`);
    const expiry = token.expiresAt ? timestampDate(token.expiresAt).toISOString() : "unknown";
    console.error(`token for ${did} expires at ${expiry}`);
  });
}

/** Challenge → Submit → Token, signing only a challenge that matches what was asked for. */
async function loginAs(
  gate: GrpcClient<(typeof GateService)["method"]>,
  { key, did, scopes, audience }: LoginRequest,
): Promise<TokenResponse> {
  const challenge = await gate.challenge({
    did,
    kind: ChallengeKind.SIGNATURE,
    scopes: [...scopes],
    audience,
  });
  if (challenge.body.case !== "signature" || challenge.expiresAt === undefined) {
    throw new Error("the server did not return a signature challenge");
  }
  const signature = signChallenge(key, challenge.body.value, {
    challengeId: challenge.challengeId,
    did,
    scopes,
    audience,
    expiresAtMs: timestampMs(challenge.expiresAt),
  });
  const { passToken: pass } = await gate.submit({
    challengeId: challenge.challengeId,
    answer: { case: "signature", value: { signature } },
  });
  return gate.token({ grant: { case: "passToken", value: pass } });
}
