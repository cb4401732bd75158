import {
  create,
  type DescFile,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  file_grpc_reflection_v1_reflection,
  type ServerReflectionRequest,
  ServerReflectionRequestSchema,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";

/**
 * gRPC server reflection (v1, and v1alpha with the same messages) over the real file
 * descriptors protobuf-es holds: each file under its own name with its imports, so grpcurl
 * `list`, `describe` and calls work without proto files. Written here because
 * @grpc/reflection rebuilds files from a proto-loader package definition and merges every
 * file of a package into one, whose imports no longer resolve (grpcurl then fails).
 */
export function addReflection(server: grpc.Server, files: readonly DescFile[]): void {
  // Built on the first reflection call (grpcurl; probes never ask), not at every start-up:
  // indexing and encoding every file took 20-70 ms of it (docs/performance.md, "Start-up and
  // idle memory").
  let built: ReturnType<typeof createReflectionIndex> | undefined;
  const index = () =>
    (built ??= createReflectionIndex([...files, file_grpc_reflection_v1_reflection]));
  const handler = (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on("data", (bytes: Buffer) => {
      let request: ServerReflectionRequest;
      try {
        request = fromBinary(ServerReflectionRequestSchema, bytes);
      } catch {
        call.destroy(
          Object.assign(new Error("malformed reflection request"), {
            code: grpc.status.INVALID_ARGUMENT,
          }),
        );
        return;
      }
      call.write(Buffer.from(toBinary(ServerReflectionResponseSchema, index().answer(request))));
    });
    call.on("end", () => call.end());
  };
  for (const version of ["v1", "v1alpha"]) {
    const path = `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`;
    server.addService(
      {
        serverReflectionInfo: {
          path,
          requestStream: true,
          responseStream: true,
          requestSerialize: (value: Buffer) => value,
          requestDeserialize: (value: Buffer) => value,
          responseSerialize: (value: Buffer) => value,
          responseDeserialize: (value: Buffer) => value,
        },
      },
      { serverReflectionInfo: handler },
    );
  }
}

type Answer = NonNullable<
  MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"]
>;

/** The reflection questions answered from a set of files and their imports. */
export function createReflectionIndex(roots: readonly DescFile[]) {
  const files = withImports(roots);
  const byName = new Map(files.map((file) => [file.proto.name, file]));
  const bySymbol = new Map<string, DescFile>();
  const extensionsOf = new Map<string, Map<number, DescFile>>();
  for (const file of files) indexSymbols(file, bySymbol, extensionsOf);
  const services = roots.flatMap((file) => file.services.map((service) => service.typeName));
  // Each file encoded once; an answer lists the file's bytes, then each import's.
  const encoded = new Map(
    files.map((file) => [file, toBinary(FileDescriptorProtoSchema, file.proto)]),
  );
  const withItsImports = (file: DescFile): Uint8Array[] =>
    [file, ...withImports(file.dependencies)].map((f) => encoded.get(f) ?? new Uint8Array());

  const fileAnswer = (file: DescFile | undefined, what: string): Answer =>
    file
      ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: withItsImports(file) } }
      : notFound(what);

  const answer = (request: ServerReflectionRequest): ServerReflectionResponse => {
    const asked = request.messageRequest;
    let messageResponse: Answer;
    switch (asked.case) {
      case "fileByFilename":
        messageResponse = fileAnswer(byName.get(asked.value), `file ${asked.value}`);
        break;
      case "fileContainingSymbol":
        messageResponse = fileAnswer(bySymbol.get(asked.value), `symbol ${asked.value}`);
        break;
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = asked.value;
        messageResponse = fileAnswer(
          extensionsOf.get(containingType)?.get(extensionNumber),
          `extension ${extensionNumber} of ${containingType}`,
        );
        break;
      }
      case "allExtensionNumbersOfType": {
        const numbers = extensionsOf.get(asked.value);
        messageResponse =
          numbers || bySymbol.has(asked.value)
            ? {
                case: "allExtensionNumbersResponse",
                value: { baseTypeName: asked.value, extensionNumber: [...(numbers?.keys() ?? [])] },
              }
            : notFound(`type ${asked.value}`);
        break;
      }
      case "listServices":
        messageResponse = {
          case: "listServicesResponse",
          value: { service: services.map((name) => ({ name })) },
        };
        break;
      default:
        messageResponse = {
          case: "errorResponse",
          value: { errorCode: grpc.status.INVALID_ARGUMENT, errorMessage: "empty request" },
        };
    }
    return create(ServerReflectionResponseSchema, {
      validHost: request.host,
      originalRequest: request,
      messageResponse,
    });
  };
  return { answer };
}

function notFound(what: string): Answer {
  return {
    case: "errorResponse",
    value: { errorCode: grpc.status.NOT_FOUND, errorMessage: `${what} not found` },
  };
}

/** The roots and every file they import, imports first. */
function withImports(roots: readonly DescFile[]): DescFile[] {
  const ordered: DescFile[] = [];
  const visit = (file: DescFile) => {
    if (ordered.includes(file)) return;
    for (const dependency of file.dependencies) visit(dependency);
    ordered.push(file);
  };
  for (const root of roots) visit(root);
  return ordered;
}

/**
 * Every fully-qualified name a file declares, as reflection clients ask for them: types,
 * fields and oneofs (`pkg.Message.field`), enum values (scoped like their enum, per protobuf's
 * C++ scoping rule), services and methods (`pkg.Service.Method`), and extensions.
 */
function indexSymbols(
  file: DescFile,
  bySymbol: Map<string, DescFile>,
  extensionsOf: Map<string, Map<number, DescFile>>,
): void {
  for (const type of nestedTypes(file)) {
    bySymbol.set(type.typeName, file);
    switch (type.kind) {
      case "message":
        for (const field of type.fields) bySymbol.set(`${type.typeName}.${field.name}`, file);
        for (const oneof of type.oneofs) bySymbol.set(`${type.typeName}.${oneof.name}`, file);
        break;
      case "enum": {
        const dot = type.typeName.lastIndexOf(".");
        const scope = dot < 0 ? "" : `${type.typeName.slice(0, dot)}.`;
        for (const value of type.values) bySymbol.set(`${scope}${value.name}`, file);
        break;
      }
      case "service":
        for (const method of type.methods) bySymbol.set(`${type.typeName}.${method.name}`, file);
        break;
      case "extension": {
        const numbers = extensionsOf.get(type.extendee.typeName) ?? new Map<number, DescFile>();
        numbers.set(type.number, file);
        extensionsOf.set(type.extendee.typeName, numbers);
        break;
      }
    }
  }
}
