import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  type RegistryService,
  type SigningKeySchema,
  SigningKeyState,
} from "../../../gen/gatehouse/v1/registry_pb.js";
import type { KeyRing, KeyState, KeyStatus } from "../../crypto/key-ring.js";
import { pageOf } from "../paging.js";
import type { ServiceHandlers } from "../types.js";

type SigningKeyHandlers = Pick<
  ServiceHandlers<(typeof RegistryService)["method"]>,
  "listSigningKeys"
>;

const STATES: Readonly<Record<KeyState, SigningKeyState>> = {
  pending: SigningKeyState.PENDING,
  signing: SigningKeyState.SIGNING,
  retiring: SigningKeyState.RETIRING,
  retired: SigningKeyState.RETIRED,
};

/**
 * ListSigningKeys (admin): a page of the key ring's schedule, newest first, with each key's
 * state as the ring decides it. Built from the schedule, which holds no key material. The
 * page token is a kid (an RFC 7638 thumbprint: URL-safe).
 */
export function signingKeyHandlers(keys: KeyRing): SigningKeyHandlers {
  return {
    async listSigningKeys(request) {
      const newestFirst = (await keys.schedule()).toReversed();
      const page = pageOf(newestFirst, (key) => key.kid, request);
      return { keys: page.items.map(toSigningKeyMessage), nextPageToken: page.nextPageToken };
    },
  };
}

function toSigningKeyMessage(key: KeyStatus): MessageInitShape<typeof SigningKeySchema> {
  return {
    kid: key.kid,
    alg: key.alg,
    state: STATES[key.state],
    createTime: timestampFromMs(key.createdAt),
    activateTime: timestampFromMs(key.activateAt),
    ...(key.retireAt !== undefined && { retireTime: timestampFromMs(key.retireAt) }),
  };
}
