/** Store collections owned by the flags feature. */
export const FLAGS = 'flags';
export const SEGMENTS = 'segments';
/** Which flag file last applied what, so a restart does not overwrite changes made since through the API. */
export const FILE_SOURCES = 'flag-files';
