import dashboardZhCN from './zh-CN-dashboard.js';

/**
 * Simplified Chinese for the dashboard: English source text (as passed to `t`) → translation.
 * Placeholders (`{name}`) stay as they are.
 */
const zhCN: Readonly<Record<string, string>> = {
  ...dashboardZhCN,
  Rollouts: '发布',
};

export default zhCN;
