import { z } from 'zod';

/**
 * Limits on the YAML files the controller and `rolloutctl apply` read (flag files, policy files, the
 * environments file). A file over any of them is skipped with an error naming it; the rest load.
 * Documented in docs/operations.md ("Files").
 */

/**
 * The largest file read, in bytes. 1 MiB holds about 2,000 flags with strategies and constraints
 * (far more than one team's file); a file over it would also be served, whole, on every SDK poll.
 */
export const DEFAULT_YAML_FILE_MAX_BYTES = 1024 * 1024;

/** YAML_FILE_MAX_BYTES, shared by the controller's configuration and rolloutctl (one rule for both). */
export const yamlFileMaxBytesSchema = z.coerce
  .number()
  .int()
  .min(1024, 'at least 1024 bytes')
  .max(64 * 1024 * 1024, 'at most 67108864 bytes (64 MiB)')
  .default(DEFAULT_YAML_FILE_MAX_BYTES);

/**
 * The deepest nesting of collections a file may have, as written. Flag and policy files need about
 * 10 levels; the YAML composer recurses once per level and overflows the stack at under a thousand
 * (a 2 KB file). Aliases can nest deeper than written, within MAX_YAML_ALIAS_COUNT.
 */
export const MAX_YAML_DEPTH = 32;

/**
 * How far aliases may expand (the yaml package's maxAliasCount: aliases resolved, weighted by the
 * aliases inside what they point to). Enough for anchors shared between environments; an alias bomb
 * (a few lines that expand to billions of nodes) stops at it.
 */
export const MAX_YAML_ALIAS_COUNT = 100;
