import type { SampleAdd } from './port.js';
import { bottomOf, checkKeep } from './sample-merge.js';

/**
 * Bottom-k samples in the embedded store (Store.addToSamples, mergeSamples, readSamples): each a
 * sorted array of at most `keep` members with an expiry. Kept in memory only: samples are derived
 * data that expire within hours, and a restart of this single process forgets them (the port says so).
 */
export class EmbeddedSamples {
  private samples = new Map<string, { m: string[]; x: number }>();
  private sweptAt = 0;

  constructor(private readonly now: () => number) {}

  add(adds: SampleAdd[], keep: number, ttlSeconds: number): void {
    checkKeep(keep);
    for (const { key, members } of adds) if (members.length > 0) this.put(key, [this.live(key), members], keep, ttlSeconds);
  }

  merge(dest: string, sources: string[], keep: number, ttlSeconds: number): void {
    checkKeep(keep);
    if (sources.length === 0) return;
    this.put(dest, [this.live(dest), ...sources.map((s) => this.live(s))], keep, ttlSeconds);
  }

  read(groups: string[][], keep: number): string[][] {
    checkKeep(keep);
    return groups.map((group) =>
      bottomOf(
        group.map((key) => this.live(key)),
        keep,
      ),
    );
  }

  private live(key: string): string[] {
    const s = this.samples.get(key);
    return s && s.x > this.now() ? s.m : [];
  }

  private put(key: string, lists: string[][], keep: number, ttlSeconds: number): void {
    const now = this.now();
    const m = bottomOf(lists, keep);
    // Like Redis: a sample left empty is no sample at all.
    if (m.length === 0) this.samples.delete(key);
    else this.samples.set(key, { m, x: now + Math.max(1, Math.ceil(ttlSeconds)) * 1000 });
    if (now - this.sweptAt >= 60_000) {
      this.sweptAt = now;
      for (const [k, s] of this.samples) if (s.x <= now) this.samples.delete(k);
    }
  }
}
