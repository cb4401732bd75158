/**
 * Operators' signed management requests (the scheme documented on
 * `gatehouse.v1.RegistryService`).
 *
 * @packageDocumentation
 */
export {
  createOperatorSigner,
  type OperatorSigner,
  type OperatorSignerOptions,
  operatorSigningInterceptor,
} from "./signer.js";
