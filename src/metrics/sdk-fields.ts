import { z } from 'zod';
import { STORED_NAME_MAX_BYTES } from '../flags/flag-name.js';

/**
 * Fields applications send about themselves (SDK registrations and metrics, outcome reports).
 * Any application token may send them and some are kept in the store, so each is bounded
 * (README, "Limits"); real SDKs send a few dozen characters.
 */
export const MAX_SDK_TEXT = 200;

/** An application's name as it gives it (`appName`). */
export const appNameSchema = z.string().min(1).max(MAX_SDK_TEXT);
/** A short free-text field (instance id, SDK version, a timestamp as the SDK writes it). */
export const sdkTextSchema = z.string().max(MAX_SDK_TEXT);
/** A variant or strategy name as an SDK reports it. */
export const reportedNameSchema = z.string().min(1).max(100);
/**
 * A flag name as an SDK reports it: not checked against a flag-name rule (an unknown one is simply not
 * counted), but as long as any flag held may be named (an import keeps Unleash's names), so that
 * no SDK's report is refused for a flag it was served.
 */
export const reportedFlagNameSchema = z.string().min(1).max(STORED_NAME_MAX_BYTES);
