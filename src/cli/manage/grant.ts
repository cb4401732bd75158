import type { MessageInitShape } from "@bufbuild/protobuf";
import { Command } from "commander";
import type { GrpcClient } from "../../../clients/typescript/src/index.js";
import { GrantService, ListGrantsResponseSchema } from "../../../gen/gatehouse/v1/grants_pb.js";
import {
  CapabilityAction,
  type CapabilitySchema,
  type Grant,
  GrantSchema,
  GrantState,
} from "../../../gen/gatehouse/v1/resources_pb.js";
import { CliFailure, EXIT_USAGE, printMessage } from "../output.js";
import {
  agentCertName,
  type ConnectionFlags,
  withClient,
  withConnectionOptions,
} from "./connection.js";
import { wholeNumber } from "./flags.js";

type Grants = GrpcClient<(typeof GrantService)["method"]>;

/** Flags of a GrantService command run as an operator by default. */
export interface OperatorFlags extends ConnectionFlags {
  readonly domain?: string;
}

interface RequestFlags extends ConnectionFlags {
  readonly did: string;
  readonly audience: string;
  readonly capability: string[];
  readonly reason: string;
  readonly duration?: number;
}

interface ListFlags extends OperatorFlags {
  readonly agent?: string;
  readonly state?: string;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

interface IdFlags extends OperatorFlags {
  readonly id: string;
  readonly comment?: string;
}

/** Maps rather than object literals: a user's `constructor` must not find a prototype member. */
const VERBS: ReadonlyMap<string, CapabilityAction> = new Map([
  ["read", CapabilityAction.READ],
  ["write", CapabilityAction.WRITE],
  ["transact", CapabilityAction.TRANSACT],
  ["delete", CapabilityAction.DELETE],
]);

const STATES: ReadonlyMap<string, GrantState> = new Map([
  ["pending", GrantState.PENDING],
  ["approved", GrantState.APPROVED],
  ["denied", GrantState.DENIED],
  ["expired", GrantState.EXPIRED],
  ["revoked", GrantState.REVOKED],
]);

/** `gatehouse grant`: capabilities an agent asks for and a human approves. */
export function grantCommand(): Command {
  return new Command("grant")
    .description("capability grants: agents request them, human approvers decide")
    .addCommand(requestCommand())
    .addCommand(listCommand())
    .addCommand(getCommand())
    .addCommand(revokeCommand());
}

/** Adds `--domain`, which names the operator and so its default certificate. */
export function withOperatorOptions(command: Command): Command {
  command.option("--domain <domain>", "the operator domain (default certificate: its own)");
  return withConnectionOptions(command, "operator-<domain>");
}

/**
 * Runs `use` on a GrantService client presenting `operator-<domain>.pem`, or the certificate
 * --cert names (an admin's, say).
 */
export function withOperatorClient<R>(
  flags: OperatorFlags,
  use: (grants: Grants) => Promise<R>,
): Promise<R> {
  if (flags.domain === undefined && flags.cert === undefined) {
    throw new CliFailure(
      "name the operator with --domain, or a certificate with --cert",
      EXIT_USAGE,
    );
  }
  return withClient(GrantService, flags, `operator-${flags.domain ?? ""}`, use);
}

function requestCommand(): Command {
  const request = new Command("request")
    .description("ask for capabilities on one audience, for a human to approve (agent certificate)")
    .requiredOption("--did <did>", "the agent's DID, which names its default certificate")
    .requiredOption("--audience <audience>", "the service they are for (in the agent's policy)")
    .requiredOption(
      "--capability <capability...>",
      "<verb>[:<resource>], the verb read, write, transact, delete or a custom one (repeatable)",
    )
    .requiredOption("--reason <text>", "why, in words the approver will read")
    .option("--duration <seconds>", "how long once approved (default: the server's)", wholeNumber);
  return withConnectionOptions(request, "agent-<DID id>").action(async (flags: RequestFlags) => {
    const capabilities = flags.capability.map(parseCapability);
    const certName = agentCertName(flags.did);
    const { grant } = await withClient(GrantService, flags, certName, (grants) =>
      grants.requestGrant({
        audience: flags.audience,
        capabilities,
        reason: flags.reason,
        ...(flags.duration !== undefined && { duration: { seconds: BigInt(flags.duration) } }),
      }),
    );
    if (grant) printMessage(GrantSchema, grant);
  });
}

function listCommand(): Command {
  const list = new Command("list")
    .description(
      "list grants, newest first, a page at a time (operator or admin certificate; " +
        "operators see their own domain's, admins may filter with --domain)",
    )
    .option("--agent <did>", "only this agent's grants")
    .option("--state <state>", `only grants in this state: ${[...STATES.keys()].join(", ")}`)
    .option("--page-size <n>", "grants per page, up to 500", wholeNumber)
    .option("--page-token <token>", "nextPageToken of the previous page");
  return withOperatorOptions(list).action(async (flags: ListFlags) => {
    const state = flags.state === undefined ? GrantState.UNSPECIFIED : grantState(flags.state);
    const page = await withOperatorClient(flags, (grants) =>
      grants.listGrants({
        agentDid: flags.agent ?? "",
        state,
        operatorDomain: flags.domain ?? "",
        pageSize: flags.pageSize ?? 0,
        pageToken: flags.pageToken ?? "",
      }),
    );
    printMessage(ListGrantsResponseSchema, page);
  });
}

function getCommand(): Command {
  const get = new Command("get").description("show a grant");
  return grantByIdCommand(get, (grants, { id }) => grants.getGrant({ id }));
}

function revokeCommand(): Command {
  const revoke = new Command("revoke")
    .description("withdraw a pending or approved grant; tokens relying on it stop verifying")
    .option("--comment <text>", "why, for the audit trail");
  return grantByIdCommand(revoke, (grants, { id, comment = "" }) =>
    grants.revokeGrant({ id, comment }),
  );
}

/** Completes a command on one grant, named by `--id`, that prints the grant as it then stands. */
function grantByIdCommand(
  command: Command,
  act: (grants: Grants, flags: IdFlags) => Promise<{ grant?: Grant | undefined }>,
): Command {
  command
    .description(`${command.description()} (operator or admin certificate)`)
    .requiredOption("--id <id>", "the grant id");
  return withOperatorOptions(command).action(async (flags: IdFlags) => {
    const { grant } = await withOperatorClient(flags, (grants) => act(grants, flags));
    if (grant) printMessage(GrantSchema, grant);
  });
}

/**
 * `<verb>` or `<verb>:<resource>`, the capability's scope spelling; a verb that is not built
 * in is a custom one. An empty resource is refused rather than read as "any resource".
 */
function parseCapability(text: string): MessageInitShape<typeof CapabilitySchema> {
  const colon = text.indexOf(":");
  const verb = colon === -1 ? text : text.slice(0, colon);
  const resource = colon === -1 ? "" : text.slice(colon + 1);
  if (verb === "" || (colon !== -1 && resource === "")) {
    throw new CliFailure(`not a capability: "${text}" (want <verb>[:<resource>])`, EXIT_USAGE);
  }
  const action = VERBS.get(verb);
  if (action === undefined) return { action: CapabilityAction.CUSTOM, name: verb, resource };
  return { action, resource };
}

function grantState(name: string): GrantState {
  const state = STATES.get(name);
  if (state === undefined) {
    const known = [...STATES.keys()].join(", ");
    throw new CliFailure(`unknown grant state "${name}" (one of ${known})`, EXIT_USAGE);
  }
  return state;
}
