import { Command } from "commander";
import { RegistryService, type RevokeRequest } from "../../../gen/gatehouse/v1/registry_pb.js";
import { CliFailure, EXIT_USAGE } from "../output.js";
import { type ConnectionFlags, withClient, withConnectionOptions } from "./connection.js";

interface RevokeFlags extends ConnectionFlags {
  readonly tokenId?: string;
  readonly did?: string;
  readonly keyThumbprint?: string;
  readonly operator?: string;
  readonly reason?: string;
}

type Target = RevokeRequest["target"];

/** Each flag names one kind of target of the Revoke RPC. */
const TARGETS = [
  { flag: "--token-id", key: "tokenId", target: (value): Target => ({ case: "tokenId", value }) },
  { flag: "--did", key: "did", target: (value): Target => ({ case: "agentDid", value }) },
  {
    flag: "--key-thumbprint",
    key: "keyThumbprint",
    target: (value): Target => ({ case: "agentKeyThumbprint", value }),
  },
  {
    flag: "--operator",
    key: "operator",
    target: (value): Target => ({ case: "operatorDomain", value }),
  },
] as const satisfies readonly {
  flag: string;
  key: keyof RevokeFlags;
  target: (value: string) => Target;
}[];

/**
 * `gatehouse revoke`: one command for every target of the Revoke RPC; exactly one of them.
 * Operators revoke their own tokens, agents and keys; only an admin revokes an operator.
 */
export function revokeCommand(): Command {
  const revoke = new Command("revoke")
    .description(
      "revoke a token, an agent, an agent key or an operator, permanently " +
        "(admin certificate by default; operators pass theirs with --cert)",
    )
    .option("--token-id <jti>", "a token, by its `jti`")
    .option("--did <did>", "an agent, by its DID")
    .option("--key-thumbprint <jkt>", "an agent key, by its RFC 7638 JWK thumbprint")
    .option("--operator <domain>", "an operator and every agent under it (admin only)")
    .option("--reason <text>", "why, for the audit trail");
  return withConnectionOptions(revoke, "admin").action(async (flags: RevokeFlags) => {
    const given = TARGETS.filter(({ key: name }) => flags[name] !== undefined);
    const [chosen] = given;
    if (given.length !== 1 || !chosen) {
      throw new CliFailure(
        `name exactly one of ${TARGETS.map(({ flag }) => flag).join(", ")}`,
        EXIT_USAGE,
      );
    }
    const value = flags[chosen.key] ?? "";
    await withClient(RegistryService, flags, "admin", (registry) =>
      registry.revoke({ target: chosen.target(value), reason: flags.reason ?? "" }),
    );
    console.log(`revoked ${chosen.flag.slice(2)} ${value}`);
  });
}
