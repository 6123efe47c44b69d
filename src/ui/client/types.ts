/** Shapes of the API answers the dashboard reads: the server's own types, imported for their types only. */
import type { BoardEntry } from '../dashboard-routes.js';
import type { RolloutStatus, Condition, NextStep } from '../../rollouts/rollout-status.js';
import type { RolloutView as RolloutWithStatus } from '../../rollouts/rollout-views.js';
import type { RolloutSeries } from '../rollout-series.js';
import type { RecentAudit, AuditSummary } from '../recent-audit.js';
import type { Rollout, CheckResult, Transition } from '../../rollouts/rollout-model.js';
import type { StoredFlag } from '../../flags/schema.js';
import type { PipelineRun } from '../../pipelines/pipeline-model.js';
import type { AuditEvent, ChainVerdict } from '../../audit/chain.js';
import type { Permission } from '../../auth/permissions.js';
import type { PublicWebhook } from '../../notifications/webhook-model.js';
import type { PublicToken } from '../../auth/token-model.js';
import type { DeliveryJob } from '../../notifications/outbox.js';

export type {
  PublicToken,
  BoardEntry,
  RolloutStatus,
  Condition,
  NextStep,
  RolloutWithStatus,
  RolloutSeries,
  RecentAudit,
  AuditSummary,
  Rollout,
  CheckResult,
  Transition,
  StoredFlag,
  PipelineRun,
  AuditEvent,
  ChainVerdict,
  Permission,
  PublicWebhook,
  DeliveryJob,
};

export interface Me {
  id: string;
  name: string;
  /** `admin` for an admin token, `person` for someone signed in with their organisation. */
  kind: string;
  via: 'token' | 'session';
  role: string;
  permissions: Permission[];
  email?: string;
  /** A session's CSRF token: every write sends it. */
  csrfToken?: string;
  expiresAt?: string;
}

export interface RolloutView {
  rollout: RolloutWithStatus;
  series: RolloutSeries;
}

/** What every page is given. */
export interface PageContext {
  me: Me;
  can(permission: Permission): boolean;
  /** The part of the hash after the page name, e.g. the rollout id. */
  param: string | undefined;
  query: URLSearchParams;
}

/** A page draws into `main` and returns how to stop its polling when the user leaves. */
export type Page = (main: HTMLElement, ctx: PageContext) => () => void;
