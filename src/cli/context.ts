import type { Command } from 'commander';
import { AdminClient } from './admin-client.js';
import { CliError, EXIT } from './exit-codes.js';
import { yamlFileMaxBytesSchema } from '../files/file-limits.js';

export const DEFAULT_URL = 'http://localhost:4242';

export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

export interface Context {
  client: AdminClient;
  json: boolean;
}

/** The controller and token from --url/--token, else CONTROLLER_URL/ROLLOUT_TOKEN. */
export function contextOf(cmd: Command, env: NodeJS.ProcessEnv = process.env): Context {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const url = opts.url ?? env.CONTROLLER_URL ?? DEFAULT_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new CliError(`invalid controller URL "${url}": expected http://host:port (set CONTROLLER_URL or --url)`, EXIT.usage);
  }
  const token = opts.token ?? env.ROLLOUT_TOKEN;
  if (!token) throw new CliError('no token: set ROLLOUT_TOKEN (or pass --token) to an admin token', EXIT.usage);
  return { client: new AdminClient(url, token), json: opts.json === true };
}

/** YAML_FILE_MAX_BYTES as the controller reads it, so that apply and export refuse the files the controller would. */
export function yamlFileMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const parsed = yamlFileMaxBytesSchema.safeParse(env.YAML_FILE_MAX_BYTES);
  if (!parsed.success) throw new CliError(`invalid YAML_FILE_MAX_BYTES "${env.YAML_FILE_MAX_BYTES}": ${parsed.error.issues[0]?.message}`, EXIT.usage);
  return parsed.data;
}
