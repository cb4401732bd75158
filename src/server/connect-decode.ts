import {
  type DescField,
  type DescMessage,
  type DescOneof,
  fromJsonString,
  ScalarType,
} from "@bufbuild/protobuf";
import { isFieldError } from "@bufbuild/protobuf/reflect";
import { Code, type ConnectError } from "@connectrpc/connect";
import {
  createAsyncIterable,
  encodeEnvelope,
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import {
  setTrailerStatus,
  trailerFlag,
  trailerParse,
  trailerSerialize,
} from "@connectrpc/connect/protocol-grpc-web";
import { Reason } from "../../gen/gatehouse/v1/errors_pb.js";
import { GatehouseError } from "../errors/index.js";

/**
 * Requests the Connect port cannot decode, answered as the gRPC port answers them
 * (dispatch.ts): INVALID_ARGUMENT with the typed ErrorDetail, never INTERNAL, and never a
 * value of the request in the message (a token in the wrong field would be echoed to every
 * proxy that logs error messages).
 */

/** Binary protobuf (or a GET's base64) that cannot be decoded; the gRPC port's wording. */
export function malformedRequest(): GatehouseError {
  return new GatehouseError(Reason.INVALID_ARGUMENT, { description: "malformed request" });
}

/**
 * JSON that is not `schema`'s: the field at fault (its proto path) and the type it expects,
 * read from protobuf-es's FieldError chain; its messages quote the value and are dropped.
 * Worded as REST's transcoding (src/sidecar/rest/transcode.ts).
 */
export function invalidJson(schema: DescMessage, error: unknown): GatehouseError {
  let innermost: DescField | DescOneof | undefined;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (isFieldError(e)) innermost = e.field();
  }
  const expected = innermost === undefined ? "" : ` (expected ${expectedType(innermost)})`;
  return new GatehouseError(Reason.INVALID_ARGUMENT, {
    field: innermost === undefined ? "" : pathTo(schema, innermost),
    description: `request is not valid JSON for ${schema.name}${expected}`,
  });
}

/**
 * The dotted proto path from `schema` to `target`: protobuf-es names the field at fault, not
 * the fields that lead to it. When the target's message is reached by more than one path (or
 * none), the field's name alone.
 */
function pathTo(schema: DescMessage, target: DescField | DescOneof): string {
  const found: string[] = [];
  const queue: [DescMessage, string][] = [[schema, ""]];
  const seen = new Set<DescMessage>([schema]);
  for (let next = queue.shift(); next !== undefined && found.length < 2; next = queue.shift()) {
    const [message, prefix] = next;
    if (message === target.parent) found.push(`${prefix}${target.name}`);
    for (const field of message.fields) {
      const child = field.message;
      if (child === undefined || seen.has(child)) continue;
      seen.add(child);
      queue.push([child, `${prefix}${field.name}.`]);
    }
  }
  return found.length === 1 && found[0] !== undefined ? found[0] : target.name;
}

function expectedType(field: DescField | DescOneof): string {
  switch (field.kind) {
    case "oneof":
      return "one field of the oneof";
    case "field":
      switch (field.fieldKind) {
        case "scalar":
          return ScalarType[field.scalar].toLowerCase();
        case "enum":
          return field.enum.typeName;
        case "message":
          return field.message.typeName;
        case "list":
          return "array";
        case "map":
          return "object";
      }
  }
}

/**
 * connect-node's JSON decoding, for one method: its serialization turns the bytes into text
 * with `jsonOptions.textDecoder`, then parses the text and answers a failure with the
 * library's message (which quotes the value). This decoder checks the text against the schema
 * first and throws the typed error, which connect-node sends as it is. It runs on connect-node's
 * path only (HTTP/1.1, GET, compressed, deadline, gRPC-Web+json), never on connect-unary.ts's.
 */
export function jsonDecodeOptions(
  schema: DescMessage,
  toConnectError: (error: unknown) => ConnectError,
): { ignoreUnknownFields: boolean; textDecoder: { decode(data: Uint8Array): string } } {
  const utf8 = new TextDecoder();
  return {
    // connect-node's default: unknown JSON fields are ignored.
    ignoreUnknownFields: true,
    textDecoder: {
      decode(data: Uint8Array): string {
        const text = utf8.decode(data);
        try {
          fromJsonString(schema, text, { ignoreUnknownFields: true });
        } catch (error) {
          throw toConnectError(invalidJson(schema, error));
        }
        return text;
      },
    },
  };
}

/**
 * connect-node reports binary protobuf it cannot parse, and a GET's invalid base64, as
 * INTERNAL (`parse binary: …`, `internal error`), with no hook before the answer is encoded.
 * Every error the methods themselves raise passes through `methodImpl` and carries the typed
 * ErrorDetail, so an INTERNAL answered before the method ran is the request's decoding
 * failing: this re-answers it INVALID_ARGUMENT, on each protocol connect-node speaks.
 * `ran(request)` tells whether the method was called for this request.
 */
export function answerDecodeFailures(
  handler: UniversalHandler,
  ran: (request: UniversalServerRequest) => boolean,
  malformed: () => ConnectError,
): UniversalHandler {
  const guarded = async (request: UniversalServerRequest): Promise<UniversalServerResponse> => {
    const response = await handler(request);
    return ran(request) ? response : retyped(response, malformed);
  };
  return Object.assign(guarded, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}

const GRPC_INTERNAL = String(Code.Internal);

async function retyped(
  response: UniversalServerResponse,
  malformed: () => ConnectError,
): Promise<UniversalServerResponse> {
  const type = response.header?.get("content-type") ?? "";
  // Connect unary: the status is the HTTP status, the error the JSON body.
  if (response.status === codeToHttpStatus(Code.Internal) && type.startsWith("application/json")) {
    const error = malformed();
    const body = errorToJsonBytes(error, {});
    const header = new Headers(response.header);
    header.delete("content-encoding");
    header.set("content-length", String(body.byteLength));
    error.metadata.forEach((value, key) => {
      header.set(key, value);
    });
    return {
      ...response,
      status: codeToHttpStatus(error.code),
      header,
      body: createAsyncIterable([body]),
    };
  }
  if (response.status !== 200) return response;
  // gRPC-Web: the status is in the trailer, the last envelope of the body. Nothing ran, so
  // the body holds that envelope only.
  if (type.startsWith("application/grpc-web")) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body ?? []) chunks.push(chunk);
    const only = chunks.length === 1 ? chunks[0] : undefined;
    if (only !== undefined && only[0] === trailerFlag) {
      const trailer = trailerParse(only.subarray(5));
      if (trailer.get("grpc-status") === GRPC_INTERNAL) {
        const status = new Headers();
        setTrailerStatus(status, malformed());
        const body = encodeEnvelope(trailerFlag, trailerSerialize(status));
        return { ...response, body: createAsyncIterable([body]) };
      }
    }
    return { ...response, body: createAsyncIterable(chunks) };
  }
  // gRPC: the status is in the HTTP trailer, set by the time the handler answered.
  const trailer = response.trailer;
  if (type.startsWith("application/grpc") && trailer?.get("grpc-status") === GRPC_INTERNAL) {
    trailer.delete("grpc-message");
    trailer.delete("grpc-status-details-bin");
    setTrailerStatus(trailer, malformed());
  }
  return response;
}
