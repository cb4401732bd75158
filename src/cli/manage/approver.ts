import { durationMs } from "@bufbuild/protobuf/wkt";
import { Command } from "commander";
import { ListApproversResponseSchema } from "../../../gen/gatehouse/v1/grants_pb.js";
import { printMessage } from "../output.js";
import { type OperatorFlags, withOperatorClient, withOperatorOptions } from "./grant.js";

interface InviteFlags extends OperatorFlags {
  readonly name: string;
}

interface RemoveFlags extends OperatorFlags {
  readonly id: string;
}

/** `gatehouse approver`: the humans who decide an operator's capability grants. */
export function approverCommand(): Command {
  return new Command("approver")
    .description("humans who approve an operator's capability grants with a passkey")
    .addCommand(inviteCommand())
    .addCommand(listCommand())
    .addCommand(removeCommand());
}

/**
 * The enrollment link is a secret: it alone goes to stdout, so it can be captured and handed
 * over a trusted channel; how long it holds goes to stderr and never names it.
 */
function inviteCommand(): Command {
  const invite = new Command("invite")
    .description("invite an approver; prints a single-use enrollment link (operator certificate)")
    .requiredOption("--name <name>", "the approver's name, as the approval page shows it");
  return withOperatorOptions(invite).action(async (flags: InviteFlags) => {
    const { inviteUrl, expiresIn } = await withOperatorClient(flags, (grants) =>
      grants.createApproverInvite({ displayName: flags.name }),
    );
    process.stdout.write(`${inviteUrl}\n`);
    const expiry = expiresIn
      ? new Date(Date.now() + durationMs(expiresIn)).toISOString()
      : "unknown";
    console.error(`invite for ${flags.name} is valid until ${expiry}`);
  });
}

function listCommand(): Command {
  const list = new Command("list").description(
    "list an operator's approvers (operator or admin certificate; admins name --domain)",
  );
  return withOperatorOptions(list).action(async (flags: OperatorFlags) => {
    const approvers = await withOperatorClient(flags, (grants) =>
      grants.listApprovers({ operatorDomain: flags.domain ?? "" }),
    );
    printMessage(ListApproversResponseSchema, approvers);
  });
}

/** Removes an approver who must stop approving: its sessions end at once. */
function removeCommand(): Command {
  const remove = new Command("remove")
    .description(
      "remove an approver; its sessions end at once and its passkeys can never enroll again " +
        "(operator or admin certificate)",
    )
    .requiredOption("--id <id>", "the approver id, as `approver list` shows it");
  return withOperatorOptions(remove).action(async (flags: RemoveFlags) => {
    await withOperatorClient(flags, (grants) => grants.removeApprover({ id: flags.id }));
    console.error(`approver ${flags.id} removed`);
  });
}
