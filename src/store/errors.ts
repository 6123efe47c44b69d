/** The errors a store raises; they are defined with the project's other errors, outside HTTP. */
export { ConflictError, StoreDamagedError, StoreUnavailableError, type ConflictKind } from '../errors/app-error.js';
