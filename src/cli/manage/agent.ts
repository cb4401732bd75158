import { Command, Option } from "commander";
import type { GrpcClient } from "../../../clients/typescript/src/index.js";
import {
  ListAgentsResponseSchema,
  RegistryService,
} from "../../../gen/gatehouse/v1/registry_pb.js";
import { type Agent, AgentSchema, AgentStatus } from "../../../gen/gatehouse/v1/resources_pb.js";
import { printMessage } from "../output.js";
import { keygenCommand, registerCommand } from "./agent-enroll.js";
import { resolveCommand, rotateKeyCommand } from "./agent-keys.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";
import { wholeNumber } from "./flags.js";
import { type PolicyFlags, policyFromFlags, withPolicyOptions } from "./policy-flags.js";

type Registry = GrpcClient<(typeof RegistryService)["method"]>;

interface DidFlags extends ConnectionFlags {
  readonly did: string;
  readonly reason?: string;
}

interface ListFlags extends ConnectionFlags {
  readonly domain?: string;
  readonly status?: keyof typeof STATUSES;
  readonly pageSize?: number;
  readonly pageToken?: string;
}

interface PolicyUpdateFlags extends DidFlags, PolicyFlags {
  readonly expectedVersion?: number;
}

const STATUSES = {
  active: AgentStatus.ACTIVE,
  suspended: AgentStatus.SUSPENDED,
  revoked: AgentStatus.REVOKED,
} as const;

/** Admin commands default to the admin certificate; operators pass their own with --cert. */
const DEFAULT_CERT = "admin";

/** An RPC on one agent, named by DID; it returns the agent as it now stands, if any. */
interface AgentAction {
  readonly name: string;
  readonly description: string;
  /** Takes `--reason`, recorded in the audit trail. */
  readonly audited: boolean;
  act(registry: Registry, flags: DidFlags): Promise<Agent | undefined>;
}

const AGENT_ACTIONS: readonly AgentAction[] = [
  {
    name: "get",
    description: "show an agent",
    audited: false,
    act: async (registry, { did }) => (await registry.getAgent({ did })).agent,
  },
  {
    name: "suspend",
    description: "refuse an agent (and its tokens) until reactivated",
    audited: true,
    act: async (registry, { did, reason = "" }) =>
      (await registry.suspendAgent({ did, reason })).agent,
  },
  {
    name: "reactivate",
    description: "lift a suspension",
    audited: false,
    act: async (registry, { did }) => (await registry.reactivateAgent({ did })).agent,
  },
  {
    name: "revoke",
    description: "revoke an agent permanently",
    audited: true,
    act: async (registry, { did, reason = "" }) => {
      await registry.revoke({ target: { case: "agentDid", value: did }, reason });
      console.log(`revoked ${did}`);
      return undefined;
    },
  },
  {
    name: "delete",
    description: "delete an agent, leaving a tombstone: its DID and keys can never return",
    audited: true,
    act: async (registry, { did, reason = "" }) =>
      (await registry.deleteAgent({ did, reason })).agent,
  },
];

/** `gatehouse agent`: enrol agents and manage their lifecycle and policy. */
export function agentCommand(): Command {
  const agent = new Command("agent")
    .description("manage agents")
    .addCommand(keygenCommand())
    .addCommand(registerCommand());
  for (const action of AGENT_ACTIONS) agent.addCommand(agentActionCommand(action));
  return agent
    .addCommand(listCommand())
    .addCommand(policyCommand())
    .addCommand(rotateKeyCommand())
    .addCommand(resolveCommand());
}

function agentActionCommand(action: AgentAction): Command {
  const command = new Command(action.name)
    .description(`${action.description} (operator or admin certificate)`)
    .requiredOption("--did <did>", "the agent's DID");
  if (action.audited) command.option("--reason <text>", "why, for the audit trail");
  return withConnectionOptions(command, DEFAULT_CERT).action(async (flags: DidFlags) => {
    const agent = await withClient(RegistryService, flags, DEFAULT_CERT, (registry) =>
      action.act(registry, flags),
    );
    if (agent) printMessage(AgentSchema, agent);
  });
}

function listCommand(): Command {
  const list = new Command("list")
    .description("list agents, a page at a time (operators see only their own)")
    .option("--domain <domain>", "only this operator domain (admins)")
    .addOption(new Option("--status <status>", "only this status").choices(Object.keys(STATUSES)))
    .option("--page-size <n>", "agents per page, up to 500", wholeNumber)
    .option("--page-token <token>", "nextPageToken of the previous page");
  return withConnectionOptions(list, DEFAULT_CERT).action(async (flags: ListFlags) => {
    const page = await withClient(RegistryService, flags, DEFAULT_CERT, (registry) =>
      registry.listAgents({
        operatorDomain: flags.domain ?? "",
        status: flags.status === undefined ? AgentStatus.UNSPECIFIED : STATUSES[flags.status],
        pageSize: flags.pageSize ?? 0,
        pageToken: flags.pageToken ?? "",
      }),
    );
    printMessage(ListAgentsResponseSchema, page);
  });
}

function policyCommand(): Command {
  const policy = new Command("policy")
    .description("replace an agent's policy (operator or admin certificate)")
    .requiredOption("--did <did>", "the agent's DID")
    .option("--expected-version <n>", "apply only if the policy is at this version", wholeNumber);
  withPolicyOptions(policy);
  return withConnectionOptions(policy, DEFAULT_CERT).action(async (flags: PolicyUpdateFlags) => {
    const { agent } = await withClient(RegistryService, flags, DEFAULT_CERT, (registry) =>
      registry.updateAgentPolicy({
        did: flags.did,
        policy: policyFromFlags(flags),
        expectedVersion: BigInt(flags.expectedVersion ?? 0),
      }),
    );
    if (agent) printMessage(AgentSchema, agent);
  });
}
