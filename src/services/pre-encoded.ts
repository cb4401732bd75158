import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { deepFreeze } from "../freeze.js";

/**
 * A response built and encoded once, for an answer a service hands out again and again
 * (Verify's and Check's allowed answer for one verified token): `message` is deep-frozen,
 * so `binary` always holds its encoding. A transport that sends binary protobuf (gRPC)
 * sends `binary` as it is (a Buffer over the encoding, made once, so a call wraps nothing);
 * the others encode `message` as they encode any response.
 */
export class PreEncoded<S extends DescMessage = DescMessage> {
  readonly message: MessageShape<S>;
  readonly binary: Buffer;

  constructor(schema: S, message: MessageShape<S>) {
    this.message = deepFreeze(message);
    const bytes = toBinary(schema, this.message);
    this.binary = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    Object.freeze(this);
  }
}
