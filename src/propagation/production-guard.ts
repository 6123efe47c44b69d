import { AppError } from '../errors/app-error.js';

/**
 * A drill turns a flag off for real users for up to its timeout, so on production it is never run
 * by accident: it needs an explicit confirmation (`{"confirm": true}`, `rolloutctl drill --yes`, the
 * dashboard's dialog). Environments carry no production marker, so the name decides: `production`
 * or `prod`, in any case, alone or as the first word of a longer name (`production-eu`, `prod_us`).
 */
const PRODUCTION_NAME = /^(production|prod)([-_.].*)?$/i;

export function isProductionEnvironment(name: string): boolean {
  return PRODUCTION_NAME.test(name);
}

export function assertDrillConfirmed(environment: string, confirm: boolean | undefined): void {
  if (!isProductionEnvironment(environment) || confirm === true) return;
  throw new AppError(
    'refused',
    'confirmation_required',
    `${environment} is a production environment: a drill turns the flag off for its users until it restores it; ` +
      'confirm with {"confirm": true} (rolloutctl drill --yes)',
    { environment },
  );
}
