/** Store collections owned by the flags feature. */
export const FLAGS = 'flags';
export const SEGMENTS = 'segments';
