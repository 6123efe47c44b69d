/** A compare-and-set expectation, log position or fence did not hold; nothing was written. */
export class ConflictError extends Error {
  constructor(readonly reason: string) {
    super(`store conflict: ${reason}`);
    this.name = 'ConflictError';
  }
}
