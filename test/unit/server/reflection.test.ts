import { create, type DescFile, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { GateService } from "../../../gen/gatehouse/v1/gate_pb.js";
import { VerifyService } from "../../../gen/gatehouse/v1/verify_pb.js";
import { ServerReflectionRequestSchema } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { createReflectionIndex } from "../../../src/server/reflection.js";

const index = createReflectionIndex([GateService.file, VerifyService.file]);

function ask(messageRequest: Parameters<typeof create<typeof ServerReflectionRequestSchema>>[1]) {
  return index.answer(create(ServerReflectionRequestSchema, messageRequest)).messageResponse;
}

function fileNames(answer: ReturnType<typeof ask>): string[] {
  if (answer.case !== "fileDescriptorResponse") throw new Error(`got ${answer.case}`);
  return answer.value.fileDescriptorProto.map(
    (bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name,
  );
}

/** Every file a file imports, transitively. */
function closure(file: DescFile, seen = new Set<string>()): Set<string> {
  seen.add(file.proto.name);
  for (const dependency of file.dependencies) closure(dependency, seen);
  return seen;
}

describe("reflection index", () => {
  it("answers a file by name with the file first and every import after it, each once", () => {
    const names = fileNames(
      ask({ messageRequest: { case: "fileByFilename", value: GateService.file.proto.name } }),
    );
    expect(names[0]).toBe(GateService.file.proto.name);
    expect(new Set(names)).toEqual(closure(GateService.file));
    expect(names.length).toBe(new Set(names).size);
  });

  it.each([
    "gatehouse.v1.GateService",
    "gatehouse.v1.GateService.Challenge",
    "gatehouse.v1.VerifyRequest",
    "gatehouse.v1.VerifyRequest.token",
    "gatehouse.v1.Reason",
    "gatehouse.v1.REASON_TOKEN_EXPIRED",
    "gatehouse.v1.rules",
  ])("finds the file declaring %s", (symbol) => {
    const names = fileNames(
      ask({ messageRequest: { case: "fileContainingSymbol", value: symbol } }),
    );
    expect(names[0]).toMatch(/^gatehouse\/v1\//);
  });

  it("lists the extension numbers of google.protobuf.FieldOptions, and the file of each", () => {
    const answer = ask({
      messageRequest: { case: "allExtensionNumbersOfType", value: "google.protobuf.FieldOptions" },
    });
    if (answer.case !== "allExtensionNumbersResponse") throw new Error(answer.case);
    expect(answer.value.extensionNumber.length).toBeGreaterThan(0);
    for (const extensionNumber of answer.value.extensionNumber) {
      const names = fileNames(
        ask({
          messageRequest: {
            case: "fileContainingExtension",
            value: { containingType: "google.protobuf.FieldOptions", extensionNumber },
          },
        }),
      );
      expect(names.length).toBeGreaterThan(0);
    }
  });

  it("lists the services of its root files", () => {
    const answer = ask({ messageRequest: { case: "listServices", value: "" } });
    if (answer.case !== "listServicesResponse") throw new Error(answer.case);
    expect(answer.value.service.map((s) => s.name)).toEqual([
      "gatehouse.v1.GateService",
      "gatehouse.v1.VerifyService",
    ]);
  });

  it.each([
    { case: "fileByFilename", value: "nope.proto" },
    { case: "fileContainingSymbol", value: "gatehouse.v1.Nope" },
    { case: "allExtensionNumbersOfType", value: "gatehouse.v1.Nope" },
  ] as const)("answers NOT_FOUND (5) for an unknown $case", (messageRequest) => {
    const answer = ask({ messageRequest });
    expect(answer.case).toBe("errorResponse");
    if (answer.case === "errorResponse") expect(answer.value.errorCode).toBe(5);
  });

  it("answers INVALID_ARGUMENT (3) for an empty request", () => {
    const answer = ask({});
    expect(answer.case).toBe("errorResponse");
    if (answer.case === "errorResponse") expect(answer.value.errorCode).toBe(3);
  });
});
