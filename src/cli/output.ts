import { type DescMessage, type MessageShape, toJson } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { GatehouseClientError } from "../../clients/typescript/src/errors.js";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";

/** Exit codes: 1 the command ran and failed (or was denied), 2 it was called wrongly. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure already worded for the user, and the exit code it calls for. */
export class CliFailure extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "CliFailure";
    this.exitCode = exitCode;
  }
}

/** Prints why a command failed to stderr and returns the exit code to use. */
export function reportFailure(error: unknown): number {
  if (error instanceof CliFailure) {
    console.error(`error: ${error.message}`);
    return error.exitCode;
  }
  if (error instanceof GatehouseClientError) {
    console.error(`error: ${reasonName(error)} (${error.code}): ${error.message}`);
    return EXIT_FAILURE;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT_FAILURE;
}

/**
 * The Reason enum name; for failures the server never saw (no connection, deadline), which
 * carry no reason, the gRPC status name says more than "UNSPECIFIED".
 */
function reasonName(error: GatehouseClientError): string {
  if (error.reason !== Reason.UNSPECIFIED) return Reason[error.reason] ?? String(error.reason);
  return status[error.code] ?? "UNSPECIFIED";
}

/**
 * Prints a message as proto JSON, with fields at their default values too: a denial's
 * `"allowed": false` must show rather than vanish.
 */
export function printMessage<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): void {
  printJson(toJson(schema, message, { alwaysEmitImplicit: true }));
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** `host:port`, bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
