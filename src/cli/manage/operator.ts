import { Command } from "commander";
import { RegistryService } from "../../../gen/gatehouse/v1/registry_pb.js";
import { OperatorSchema } from "../../../gen/gatehouse/v1/resources_pb.js";
import { printMessage } from "../output.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";

interface CreateFlags extends ConnectionFlags {
  readonly domain: string;
  readonly name?: string;
}

/** `gatehouse operator`: operators own the agents of one domain. */
export function operatorCommand(): Command {
  return new Command("operator")
    .description("manage operators (admin certificate)")
    .addCommand(createCommand());
}

function createCommand(): Command {
  const create = new Command("create")
    .description("register an operator for a domain")
    .requiredOption("--domain <domain>", "the operator's domain, e.g. example.com")
    .option("--name <name>", "a human-readable name");
  return withConnectionOptions(create, "admin").action(async (flags: CreateFlags) => {
    const { operator } = await withClient(RegistryService, flags, "admin", (registry) =>
      registry.createOperator({ domain: flags.domain, displayName: flags.name ?? "" }),
    );
    if (operator) printMessage(OperatorSchema, operator);
  });
}
