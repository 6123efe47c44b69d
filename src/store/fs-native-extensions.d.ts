/** The part of fs-native-extensions the embedded store uses (the package ships no types). */
declare module 'fs-native-extensions' {
  /** An exclusive lock on the whole file (a shared one with `shared`); false when another descriptor holds a conflicting lock. */
  export function tryLock(fd: number, options?: { shared?: boolean }): boolean;
  export function unlock(fd: number): void;
}
