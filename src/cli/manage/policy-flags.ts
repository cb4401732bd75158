import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Command } from "commander";
import type { PolicySchema } from "../../../gen/gatehouse/v1/resources_pb.js";
import { wholeNumber } from "./flags.js";

export interface PolicyFlags {
  readonly scope?: string[];
  readonly audience?: string[];
  readonly maxTtl?: number;
}

/** The options that spell a policy. Deny by default: what is not listed is not granted. */
export function withPolicyOptions(command: Command): Command {
  return command
    .option("--scope <scope...>", "a scope the agent may request (repeatable)")
    .option("--audience <audience...>", "an audience the agent may request (repeatable)")
    .option("--max-ttl <seconds>", "cap on the agent's token lifetime", wholeNumber);
}

export function policyFromFlags(flags: PolicyFlags): MessageInitShape<typeof PolicySchema> {
  return {
    scopes: flags.scope ?? [],
    audiences: flags.audience ?? [],
    ...(flags.maxTtl === undefined ? {} : { maxTokenTtl: { seconds: BigInt(flags.maxTtl) } }),
  };
}
