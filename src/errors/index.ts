export { type CatalogEntry, catalogEntry, catalogReasons } from "./catalog.js";
export {
  GatehouseError,
  type GatehouseErrorOptions,
  invalidArgument,
  toGatehouseError,
} from "./gatehouse-error.js";
