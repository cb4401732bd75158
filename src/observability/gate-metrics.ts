import type { DescField, DescOneof, Message } from "@bufbuild/protobuf";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import {
  ChallengeKindSchema,
  type ChallengeRequest,
  type SubmitRequest,
  SubmitRequestSchema,
  type TokenRequest,
  TokenRequestSchema,
} from "../../gen/gatehouse/v1/gate_pb.js";
import { boundBy, enumLabels } from "./bound.js";
import type { GatehouseMetrics } from "./metrics.js";

type GateObserver = (request: Message, reason: Reason, seconds: number) => void;

const kindLabel = enumLabels(ChallengeKindSchema.values, (name) => name.toLowerCase());

/**
 * The login metrics, read off the gate's three RPCs as the dispatcher sees them: the kind a
 * challenge was asked for, the answer's kind on Submit, the grant on Token. Every label comes
 * from the contract's own enum or oneof, never from what the caller wrote in a field.
 */
export const gateObservers: Readonly<Record<string, (metrics: GatehouseMetrics) => GateObserver>> =
  {
    "gatehouse.v1.GateService/Challenge": ({ challenges }) => {
      const issued = boundBy((kind) => challenges.labels(kindLabel(kind), "issued"));
      return (request, reason) => {
        if (reason === Reason.UNSPECIFIED) issued((request as ChallengeRequest).kind).inc();
      };
    },
    "gatehouse.v1.GateService/Submit": ({ challenges }) => {
      const outcome = byCase(oneof(SubmitRequestSchema.oneofs, "answer"), (kind) => ({
        passed: challenges.labels(kind, "passed"),
        failed: challenges.labels(kind, "failed"),
      }));
      return (request, reason) => {
        const children = outcome((request as SubmitRequest).answer.case);
        (reason === Reason.UNSPECIFIED ? children.passed : children.failed).inc();
      };
    },
    "gatehouse.v1.GateService/Token": ({ logins, loginDuration }) => {
      // Labelled by the JSON name (`pass`, `assertion`, `exchange`): the field `pass_token`
      // was renamed from the Python keyword `pass` and kept its JSON name, and so its label.
      const grant = byCase(
        oneof(TokenRequestSchema.oneofs, "grant"),
        (name) => ({
          ok: logins.labels(name, "ok"),
          failed: logins.labels(name, "failed"),
          duration: loginDuration.labels(name),
        }),
        (field) => field.jsonName,
      );
      return (request, reason, seconds) => {
        const children = grant((request as TokenRequest).grant.case);
        (reason === Reason.UNSPECIFIED ? children.ok : children.failed).inc();
        children.duration.observe(seconds);
      };
    },
  };

function oneof(oneofs: readonly DescOneof[], name: string): DescOneof {
  const found = oneofs.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no oneof ${name}`);
  return found;
}

/**
 * Children per case of a oneof, labelled by the field's proto name (`iterated_hash`) unless
 * told otherwise, all bound now (a handful of series); an unset case (refused by
 * validation) gets "none".
 */
function byCase<T>(
  group: DescOneof,
  make: (label: string) => T,
  label: (field: DescField) => string = (field) => field.name,
): (selected: string | undefined) => T {
  const children = new Map(group.fields.map((field) => [field.localName, make(label(field))]));
  const none = make("none");
  return (selected) => (selected === undefined ? undefined : children.get(selected)) ?? none;
}
